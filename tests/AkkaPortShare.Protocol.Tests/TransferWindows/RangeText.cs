using AkkaPortShare.Protocol.TransferWindows;

namespace AkkaPortShare.Protocol.Tests.TransferWindows;

/// <summary>Compact text for ranges and number lists ("1-3,5"), so cases read as data in [InlineData].</summary>
internal static class RangeText
{
    public static string Format(IReadOnlyList<SequenceRange> ranges) =>
        string.Join(",", ranges.Select(r => r.Lower == r.Upper ? $"{r.Lower}" : $"{r.Lower}-{r.Upper}"));

    public static long[] Numbers(string csv) =>
        csv.Length == 0 ? [] : csv.Split(',').Select(long.Parse).ToArray();

    public static SequenceRange[] Parse(string text) =>
        text.Length == 0
            ? []
            : text.Split(',').Select(part =>
            {
                string[] bounds = part.Split('-');
                long lower = long.Parse(bounds[0]);
                return new SequenceRange(lower, bounds.Length == 1 ? lower : long.Parse(bounds[1]));
            }).ToArray();

    public static SequenceRanges Of(string numbers)
    {
        var ranges = new SequenceRanges();
        foreach (long n in Numbers(numbers))
        {
            ranges.Add(n);
        }

        return ranges;
    }
}
