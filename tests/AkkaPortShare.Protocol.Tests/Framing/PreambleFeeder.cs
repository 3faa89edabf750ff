using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Protocol.Tests.Framing;

/// <summary>Everything observable about a preamble decode, comparable by value across split strategies.</summary>
internal sealed record PreambleOutcome(
    PreambleStage Stage,
    PreambleError Error,
    string? Fault,
    FramingMode Mode,
    int Major,
    int Minor,
    string? Via,
    string? ContentType,
    string Upgrades,
    int Consumed);

internal static class PreambleFeeder
{
    /// <summary>
    /// Feeds <paramref name="data"/> to <paramref name="decoder"/> in the reads described by
    /// <paramref name="ends"/>, the way a connection handler would: bytes the decoder did not take stay in the
    /// buffer and are offered again; an UpgradeRequest pause is recorded and then decoding resumes.
    /// </summary>
    public static PreambleOutcome Feed(PreambleDecoder decoder, byte[] data, IReadOnlyList<int> ends)
    {
        var upgrades = new List<string>();
        int offset = 0;
        foreach (int end in ends)
        {
            while (offset < end && !decoder.IsFinished)
            {
                int available = end - offset;
                int n = decoder.Decode(data.AsSpan(offset, available));
                Assert.InRange(n, 0, available);
                offset += n;
                if (decoder.UpgradeRequested is { } upgrade)
                {
                    upgrades.Add(upgrade);
                }
                else if (n < available && !decoder.IsFinished)
                {
                    // Without a pause or a final state the decoder must take the whole read.
                    Assert.Fail($"Decoder stopped at {offset} of {end} without a reason.");
                }
            }

            if (decoder.IsFinished)
            {
                break;
            }
        }

        return Snapshot(decoder, string.Join(",", upgrades), offset);
    }

    public static PreambleOutcome Feed(byte[] data, IReadOnlyList<int> ends, int maxVia = 2048, int maxContentType = 256) =>
        Feed(new PreambleDecoder(maxVia, maxContentType), data, ends);

    public static PreambleOutcome Snapshot(PreambleDecoder d, string upgrades, int consumed) =>
        new(d.Stage, d.Error, d.FaultFor, d.Mode, d.MajorVersion, d.MinorVersion, d.Via, d.ContentType, upgrades, consumed);
}
