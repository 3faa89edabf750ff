using AkkaPortShare.Protocol.TransferWindows;

namespace AkkaPortShare.Protocol.Tests.TransferWindows;

/// <summary>
/// Drives a <see cref="SendWindow{T}"/> in tests. The congestion window can only grow through acks, so the driver
/// first runs loss-free rounds until it reaches the wanted size; later numbers are written relative to that
/// (relative 1 = the first message after the warm-up).
/// </summary>
internal sealed class SendDriver
{
    private readonly List<long> _newly = [];

    public SendDriver(int maxWindow = 8, int congestionWindow = 1, bool flowControl = false, int maxRetryCount = 8, TimeSpan? roundTrip = null)
    {
        Window = new SendWindow<string>(maxWindow, maxRetryCount, roundTrip ?? TimeSpan.FromMilliseconds(100), flowControl);
        while (Window.CongestionWindow < congestionWindow)
        {
            while (Window.CanSend)
            {
                Window.Add("warm-up", TimeSpan.Zero);
            }

            Window.Acknowledge([new SequenceRange(1, Window.LastNumberSent)], null, TimeSpan.Zero, _newly);
        }

        Base = Window.LastNumberSent;
    }

    public SendWindow<string> Window { get; }

    public long Base { get; }

    public long Abs(long relative) => Base + relative;

    public long Rel(long absolute) => absolute - Base;

    /// <summary>Adds <paramref name="count"/> messages ("m{relative}") and returns the relative numbers.</summary>
    public long[] Send(int count, TimeSpan at = default)
    {
        var numbers = new long[count];
        for (int i = 0; i < count; i++)
        {
            long relative = Window.LastNumberSent + 1 - Base;
            numbers[i] = Rel(Window.Add($"m{relative}", at));
        }

        return numbers;
    }

    /// <summary>Acks relative ranges ("1,3-4"); everything up to the warm-up is included, as a real receiver would.</summary>
    public (AckVerdict Verdict, string Newly) Ack(string relativeRanges, int? bufferRemaining = null, TimeSpan at = default)
    {
        var ranges = new List<SequenceRange>();
        if (Base > 0)
        {
            ranges.Add(new SequenceRange(1, Base));
        }

        foreach (SequenceRange r in RangeText.Parse(relativeRanges))
        {
            ranges.Add(new SequenceRange(Abs(r.Lower), Abs(r.Upper)));
        }

        // Adjacent ranges are fine for the window, but merge the warm-up prefix the way a receiver would.
        if (ranges.Count > 1 && ranges[1].Lower == Base + 1)
        {
            ranges[0] = new SequenceRange(1, ranges[1].Upper);
            ranges.RemoveAt(1);
        }

        _newly.Clear();
        AckVerdict verdict = Window.Acknowledge(ranges, bufferRemaining, at, _newly);
        return (verdict, string.Join(",", _newly.Select(Rel)));
    }
}
