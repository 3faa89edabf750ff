using AkkaPortShare.Protocol.TransferWindows;

namespace AkkaPortShare.Protocol.Tests.TransferWindows;

public sealed class ReceiveWindowTests
{
    [Fact]
    public void Receive_WindowLimit_CountsUndeliveredAndOutOfOrderTogether()
    {
        var window = new ReceiveWindow<string>(4, ordered: true);
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(1, "m1"));
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(2, "m2"));
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(4, "m4"));
        Assert.Equal((2, 1, 1), (window.Undelivered, window.OutOfOrder, window.BufferRemaining));

        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(3, "m3"));
        Assert.Equal((4, 0, 0), (window.Undelivered, window.OutOfOrder, window.BufferRemaining));

        Assert.Equal(ReceiveOutcome.BeyondWindow, window.Receive(5, "m5"));

        Assert.True(window.TryTake(out _, out _));
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(5, "m5"));
    }

    [Fact]
    public void Receive_UnorderedFull_RefusesByCount()
    {
        var window = new ReceiveWindow<int>(3, ordered: false);
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(3, 3));
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(1, 1));
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(7, 7));

        Assert.Equal(ReceiveOutcome.BeyondWindow, window.Receive(2, 2));
        Assert.Equal(0, window.BufferRemaining);
    }

    [Fact]
    public void Receive_BeyondWindow_DroppedAndNotRecorded()
    {
        var window = new ReceiveWindow<string>(2, ordered: true);
        window.Receive(1, "m1");
        window.Receive(2, "m2");

        Assert.Equal(ReceiveOutcome.BeyondWindow, window.Receive(3, "m3"));

        Assert.False(window.Received.Contains(3));
        Assert.Equal(2, window.Received.Count);
        Assert.Equal("1-2", RangeText.Format(window.Received.Ranges));

        // The sender's retry is then a fresh arrival, not a duplicate.
        window.TryTake(out _, out _);
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(3, "m3"));
    }

    [Theory]
    [InlineData(5, ReceiveOutcome.BeyondWindow)] // 0 undelivered + 4 positions from next expected (1) = window
    [InlineData(4, ReceiveOutcome.Accepted)]
    public void Receive_OrderedFarAhead_ReservesRoomForTheGaps(long number, ReceiveOutcome expected)
    {
        var window = new ReceiveWindow<long>(4, ordered: true);

        Assert.Equal(expected, window.Receive(number, number));
    }

    [Fact]
    public void Receive_OrderedHeldMessages_NeverLockOutTheNextExpected()
    {
        var window = new ReceiveWindow<long>(4, ordered: true);
        for (long n = 2; n <= 8; n++)
        {
            window.Receive(n, n);
        }

        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(1, 1));
        Assert.Equal(4, window.Undelivered);
    }

    [Theory]
    [InlineData(1)] // taken
    [InlineData(2)] // accepted, not yet taken
    [InlineData(4)] // held out of order
    public void Receive_AgainAfterAccepted_IsDuplicateAndChangesNothing(long number)
    {
        var window = new ReceiveWindow<string>(8, ordered: true);
        window.Receive(1, "m1");
        window.Receive(2, "m2");
        window.Receive(4, "m4");
        window.TryTake(out _, out _);
        (int, int, long) before = (window.Undelivered, window.OutOfOrder, window.Received.Count);

        Assert.Equal(ReceiveOutcome.Duplicate, window.Receive(number, "again"));

        Assert.Equal(before, (window.Undelivered, window.OutOfOrder, window.Received.Count));
    }

    [Fact]
    public void Receive_DuplicateWhileFull_IsStillDuplicate()
    {
        var window = new ReceiveWindow<int>(1, ordered: true);
        window.Receive(1, 1);

        Assert.Equal(ReceiveOutcome.Duplicate, window.Receive(1, 1));
    }

    [Fact]
    public void TryTake_Ordered_DeliversInNumberOrderAsGapsFill()
    {
        var window = new ReceiveWindow<string>(8, ordered: true);

        window.Receive(3, "m3");
        window.Receive(5, "m5");
        Assert.False(window.TryTake(out _, out _));
        Assert.Equal(2, window.OutOfOrder);

        window.Receive(1, "m1");
        Assert.Equal("1", Drain(window));

        window.Receive(2, "m2");
        Assert.Equal("2,3", Drain(window));
        Assert.Equal(1, window.OutOfOrder);

        window.Receive(4, "m4");
        Assert.Equal("4,5", Drain(window));
        Assert.Equal(0, window.OutOfOrder);
    }

    [Fact]
    public void TryTake_Ordered_ReturnsTheMessageWithItsNumber()
    {
        var window = new ReceiveWindow<string>(8, ordered: true);
        window.Receive(2, "two");
        window.Receive(1, "one");

        Assert.True(window.TryTake(out long n1, out string m1));
        Assert.True(window.TryTake(out long n2, out string m2));

        Assert.Equal((1L, "one", 2L, "two"), (n1, m1, n2, m2));
    }

    [Fact]
    public void TryTake_Unordered_DeliversEachOnArrival()
    {
        var window = new ReceiveWindow<string>(8, ordered: false);

        window.Receive(3, "m3");
        Assert.Equal("3", Drain(window));

        window.Receive(5, "m5");
        window.Receive(1, "m1");
        Assert.Equal("5,1", Drain(window));
        Assert.Equal(0, window.OutOfOrder);
    }

    [Fact]
    public void BufferRemaining_ThroughScenario_IsWindowMinusUndeliveredAndHeld()
    {
        var window = new ReceiveWindow<int>(5, ordered: true);
        var observed = new List<int> { window.BufferRemaining };

        void Step(Action action)
        {
            action();
            observed.Add(window.BufferRemaining);
        }

        Step(() => window.Receive(1, 1));        // takeable
        Step(() => window.Receive(3, 3));        // held
        Step(() => window.Receive(4, 4));        // held
        Step(() => window.TryTake(out _, out _)); // 1 taken
        Step(() => window.Receive(2, 2));        // 2, 3, 4 takeable
        Step(() => window.Receive(2, 2));        // duplicate: no change
        Step(() => window.TryTake(out _, out _));
        Step(() => window.TryTake(out _, out _));
        Step(() => window.TryTake(out _, out _));

        Assert.Equal([5, 4, 3, 2, 3, 2, 2, 3, 4, 5], observed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(long.MinValue)]
    public void Receive_NonPositiveNumber_IsInvalid(long number)
    {
        var window = new ReceiveWindow<int>(8, ordered: true);

        Assert.Equal(ReceiveOutcome.Invalid, window.Receive(number, 0));
        Assert.Equal(0, window.Received.Count);
    }

    [Theory]
    [InlineData(4, false, ReceiveOutcome.Invalid)]   // beyond the last
    [InlineData(2, true, ReceiveOutcome.Invalid)]    // a second, different last
    [InlineData(3, true, ReceiveOutcome.Duplicate)]  // the last message again
    [InlineData(2, false, ReceiveOutcome.Accepted)]  // filling a gap below the last
    public void Receive_AfterLastMessage_FollowsTheLastNumber(long number, bool isLast, ReceiveOutcome expected)
    {
        var window = new ReceiveWindow<int>(8, ordered: true);
        window.Receive(1, 1);
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(3, 3, isLast: true));
        Assert.Equal(3, window.LastNumber);

        Assert.Equal(expected, window.Receive(number, 0, isLast));
    }

    [Theory]
    [InlineData(3)] // below an already received number
    [InlineData(5)] // on an already received number that was not last
    public void Receive_LastBelowOrOnReceived_IsInvalid(long number)
    {
        var window = new ReceiveWindow<int>(8, ordered: true);
        window.Receive(1, 1);
        window.Receive(5, 5);

        Assert.Equal(ReceiveOutcome.Invalid, window.Receive(number, 0, isLast: true));
        Assert.Null(window.LastNumber);
    }

    [Fact]
    public void Receive_LastBeyondWindow_DoesNotMakeLastKnown()
    {
        var window = new ReceiveWindow<int>(2, ordered: true);
        window.Receive(1, 1);
        window.Receive(2, 2);

        Assert.Equal(ReceiveOutcome.BeyondWindow, window.Receive(3, 3, isLast: true));
        Assert.Null(window.LastNumber);
    }

    [Fact]
    public void IsComplete_AllTaken_FollowReceiptAndTaking()
    {
        var window = new ReceiveWindow<int>(8, ordered: true);
        window.Receive(3, 3, isLast: true);
        window.Receive(1, 1);
        Assert.False(window.IsComplete);

        window.Receive(2, 2);
        Assert.True(window.IsComplete);
        Assert.False(window.AllTaken);

        Drain(window);
        Assert.True(window.AllTaken);
    }

    [Fact]
    public void SetLastNumber_WithoutMessage_CompletesWhenAllReceived()
    {
        var window = new ReceiveWindow<int>(8, ordered: true);
        window.Receive(1, 1);
        window.SetLastNumber(2);
        Assert.False(window.IsComplete);

        Assert.Equal(ReceiveOutcome.Invalid, window.Receive(3, 3));
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(2, 2));
        Assert.True(window.IsComplete);
    }

    [Fact]
    public void SetLastNumber_Zero_CompletesAnEmptySequence()
    {
        var window = new ReceiveWindow<int>(8, ordered: true);

        window.SetLastNumber(0);

        Assert.True(window.AllTaken);
        Assert.Equal(ReceiveOutcome.Invalid, window.Receive(1, 1));
    }

    [Theory]
    [InlineData(-1, null, false)]
    [InlineData(4, null, false)] // below the highest received (5)
    [InlineData(5, null, true)]
    [InlineData(9, null, true)]
    [InlineData(9, 9L, true)]    // the same again
    [InlineData(8, 9L, false)]   // a different one
    public void TrySetLastNumber_Conflicts_AreRefused(long last, long? known, bool expected)
    {
        var window = new ReceiveWindow<int>(8, ordered: false);
        window.Receive(5, 5);
        if (known is long k)
        {
            window.SetLastNumber(k);
        }

        Assert.Equal(expected, window.TrySetLastNumber(last));
        Assert.Equal(expected ? last : known, window.LastNumber);
    }

    [Fact]
    public void SetLastNumber_Conflict_Throws()
    {
        var window = new ReceiveWindow<int>(8, ordered: true);
        window.Receive(3, 3);

        Assert.Throws<ArgumentException>(() => window.SetLastNumber(2));
    }

    [Fact]
    public void Receive_UnorderedBeyond128Ranges_RefusesOnlyNewRanges()
    {
        var window = new ReceiveWindow<long>(1000, ordered: false);
        for (long n = 1; n <= 255; n += 2)
        {
            Assert.Equal(ReceiveOutcome.Accepted, window.Receive(n, n));
        }

        Assert.Equal(TransferWindowLimits.MaxSequenceRanges, window.Received.Ranges.Count);

        Assert.Equal(ReceiveOutcome.BeyondWindow, window.Receive(300, 300)); // a 129th range
        Assert.False(window.Received.Contains(300));
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(256, 256));     // extends the top range
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(2, 2));         // merges two ranges: 127 left
        Assert.Equal(ReceiveOutcome.Accepted, window.Receive(300, 300));     // room for one new range again
        Assert.Equal(TransferWindowLimits.MaxSequenceRanges, window.Received.Ranges.Count);
    }

    [Fact]
    public void Receive_OrderedManyRanges_HasNoRangeCap()
    {
        var window = new ReceiveWindow<long>(1000, ordered: true);
        for (long n = 2; n <= 400; n += 2)
        {
            Assert.Equal(ReceiveOutcome.Accepted, window.Receive(n, n));
        }

        Assert.Equal(200, window.Received.Ranges.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4)]
    public void Constructor_NonPositiveWindow_Throws(int size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReceiveWindow<int>(size, ordered: true));

    private static string Drain<T>(ReceiveWindow<T> window)
    {
        var taken = new List<long>();
        while (window.TryTake(out long number, out _))
        {
            taken.Add(number);
        }

        return string.Join(",", taken);
    }
}
