using AkkaPortShare.Protocol.TransferWindows;

namespace AkkaPortShare.Protocol.Tests.TransferWindows;

public sealed class SequenceRangesTests
{
    [Theory]
    [InlineData("1", "1")]
    [InlineData("1,2,3", "1-3")]
    [InlineData("3,1", "1,3")]
    [InlineData("1,3,2", "1-3")] // the only gap fills: two ranges merge
    [InlineData("5,3,4", "3-5")]
    [InlineData("1,5,2", "1-2,5")] // extends the previous range up
    [InlineData("1,5,4", "1,4-5")] // extends the next range down
    [InlineData("1,9,5", "1,5,9")] // splits a gap: new range in the middle
    [InlineData("1,5,9,3", "1,3,5,9")]
    [InlineData("10,1,5,2,9", "1-2,5,9-10")]
    [InlineData("2,4,6,8,5,7,3,1", "1-8")]
    [InlineData("100,1,50,99,2,51", "1-2,50-51,99-100")]
    public void Add_Sequence_KeepsMergedAscendingRanges(string added, string expected)
    {
        SequenceRanges ranges = RangeText.Of(added);

        Assert.Equal(expected, RangeText.Format(ranges.Ranges));
        Assert.Equal(RangeText.Numbers(added).Length, ranges.Count);
    }

    [Theory]
    [InlineData("1,2,3", 2)]
    [InlineData("1,5,9", 5)]
    [InlineData("1,5,9", 9)]
    [InlineData("1,3,4,5", 4)]
    [InlineData("1,3,4,5", 1)]
    public void Add_PresentNumber_ReturnsFalseAndKeepsCount(string added, long again)
    {
        SequenceRanges ranges = RangeText.Of(added);
        long count = ranges.Count;
        string before = RangeText.Format(ranges.Ranges);

        Assert.False(ranges.Add(again));

        Assert.Equal(count, ranges.Count);
        Assert.Equal(before, RangeText.Format(ranges.Ranges));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Add_NonPositive_Throws(long number) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceRanges().Add(number));

    [Theory]
    [InlineData("1,2,3,7,8", 0, false)]
    [InlineData("1,2,3,7,8", 1, true)]
    [InlineData("1,2,3,7,8", 3, true)]
    [InlineData("1,2,3,7,8", 4, false)]
    [InlineData("1,2,3,7,8", 6, false)]
    [InlineData("1,2,3,7,8", 7, true)]
    [InlineData("1,2,3,7,8", 8, true)]
    [InlineData("1,2,3,7,8", 9, false)]
    [InlineData("", 1, false)]
    public void Contains_Number_MatchesRanges(string added, long number, bool expected) =>
        Assert.Equal(expected, RangeText.Of(added).Contains(number));

    [Theory]
    [InlineData("", 0, true)]
    [InlineData("", 1, false)]
    [InlineData("1,2,3,4,5", 5, true)]
    [InlineData("1,2,3,4,5", 3, true)]
    [InlineData("1,2,3,4,5", 6, false)]
    [InlineData("2,3,4,5", 1, false)]
    [InlineData("2,3,4,5", 0, true)]
    [InlineData("1,2,3,5", 3, true)]
    [InlineData("1,2,3,5", 4, false)]
    [InlineData("1,2,3,5", 5, false)]
    public void ContainsAllThrough_Last_RequiresOneRangeFromOne(string added, long last, bool expected) =>
        Assert.Equal(expected, RangeText.Of(added).ContainsAllThrough(last));

    [Theory]
    [InlineData("", 4, true)]
    [InlineData("1,2", 3, false)] // extends the top
    [InlineData("1,2", 4, true)]
    [InlineData("1,5", 4, false)] // extends 5 down
    [InlineData("1,5", 2, false)] // extends 1 up
    [InlineData("1,5", 3, true)]
    [InlineData("1,3", 2, false)] // merges
    [InlineData("1,3", 3, false)] // present
    [InlineData("5", 1, true)]
    public void WouldStartNewRange_Number_TrueOnlyWhenDetached(string added, long number, bool expected) =>
        Assert.Equal(expected, RangeText.Of(added).WouldStartNewRange(number));

    [Fact]
    public void Highest_TracksTopRange()
    {
        var ranges = new SequenceRanges();
        Assert.Equal(0, ranges.Highest);

        ranges.Add(7);
        ranges.Add(3);

        Assert.Equal(7, ranges.Highest);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Add_RandomOrder_MatchesSetModel(int seed)
    {
        var random = new Random(seed);
        var ranges = new SequenceRanges();
        var model = new HashSet<long>();
        for (int i = 0; i < 400; i++)
        {
            long n = random.Next(1, 300);

            Assert.Equal(model.Add(n), ranges.Add(n));

            Assert.Equal(model.Count, ranges.Count);
        }

        for (long n = 1; n <= 301; n++)
        {
            Assert.Equal(model.Contains(n), ranges.Contains(n));
        }

        // Ascending, disjoint, never touching, and covering exactly the model.
        long previousUpper = -1;
        long covered = 0;
        foreach (SequenceRange range in ranges.Ranges)
        {
            Assert.True(range.Lower <= range.Upper);
            Assert.True(range.Lower > previousUpper + 1, $"{range} touches or overlaps the previous range");
            previousUpper = range.Upper;
            covered += range.Length;
        }

        Assert.Equal(model.Count, covered);
    }
}
