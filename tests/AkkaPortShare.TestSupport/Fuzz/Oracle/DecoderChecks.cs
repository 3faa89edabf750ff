using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.TestSupport.Fuzz.Cases;

namespace AkkaPortShare.TestSupport.Fuzz.Oracle;

/// <summary>The decoder's end state after one stop: everything a server acts on.</summary>
public readonly record struct DecoderState(
    PreambleStage Stage, PreambleError Error, int Consumed, FramingMode Mode, int Major, string? Via, string? ContentType,
    string? Upgrade, string? FaultFor)
{
    public DecoderVerdict Verdict => new(Stage, Error);

    public static DecoderState Of(PreambleDecoder d, int consumed) => new(
        d.Stage, d.Error, consumed, d.Stage > PreambleStage.Mode && d.Stage != PreambleStage.Failed ? d.Mode : default,
        d.MajorVersion, d.Via, d.ContentType, d.UpgradeRequested, d.FaultFor);
}

/// <summary>
/// In-process checks of <see cref="PreambleDecoder"/> on one case: it must not throw, must consume no more than
/// it is given (and nothing once finished), must keep its error consistent with its stage, must reach the same
/// state whether the bytes arrive at once or split at random points (a reused, Reset decoder against a fresh one),
/// and, for a generated case, must reach the verdict the generator built the case for.
/// </summary>
public sealed class DecoderChecks(FuzzTarget target)
{
    private readonly PreambleDecoder _reused = new(target.MaxViaSize, target.MaxContentTypeSize);

    /// <summary>Null when every check holds, else what went wrong.</summary>
    public string? Check(PreambleCase c, Random random, out DecoderState state)
    {
        state = default;
        try
        {
            _reused.Reset();
            var consumed = _reused.Decode(c.Bytes);
            state = DecoderState.Of(_reused, consumed);
            if (consumed < 0 || consumed > c.Bytes.Length) return $"consumed {consumed} of {c.Bytes.Length} bytes";
            if ((state.Stage == PreambleStage.Failed) != (state.Error != PreambleError.None))
                return $"stage {state.Stage} with error {state.Error}";
            if (consumed < c.Bytes.Length && !_reused.IsFinished && !_reused.IsUpgradePending)
                return $"stopped after {consumed} of {c.Bytes.Length} bytes without a reason (stage {state.Stage})";
            if (_reused.IsFinished && _reused.Decode(c.Bytes) != 0) return "a finished decoder consumed more bytes";
            if (state.Stage is PreambleStage.Encoding or PreambleStage.AfterEncoding or PreambleStage.Complete && state.Via is null)
                return $"stage {state.Stage} without a via";
            if (c.Intended is { } intended && intended != state.Verdict)
                return $"intended {intended}, decoded {state.Verdict}";

            var split = DecodeSplit(c.Bytes, random);
            if (split != state) return $"split at random points: {split}; at once: {state}";
            return null;
        }
        catch (Exception e)
        {
            return $"threw {e.GetType().Name}: {e.Message}";
        }
    }

    // Feeds the bytes in random chunks until the decoder stops (finished, or an upgrade to answer) or they run out.
    private DecoderState DecodeSplit(byte[] bytes, Random random)
    {
        var decoder = new PreambleDecoder(target.MaxViaSize, target.MaxContentTypeSize);
        var position = 0;
        while (position < bytes.Length)
        {
            var chunk = Math.Min(bytes.Length - position, 1 + random.Next(random.Next(2) == 0 ? 4 : 64));
            var used = decoder.Decode(bytes.AsSpan(position, chunk));
            position += used;
            if (used < chunk || decoder.IsFinished || decoder.IsUpgradePending) break;
        }
        return DecoderState.Of(decoder, position);
    }
}
