using AkkaPortShare.Protocol.TransferWindows;

namespace AkkaPortShare.Protocol.Tests.TransferWindows;

public sealed class SendWindowTests
{
    [Fact]
    public void Add_First_IsNumberOneAndFillsTheInitialWindow()
    {
        var window = new SendWindow<string>(8, 8, TimeSpan.FromMilliseconds(100), flowControl: false);
        Assert.Equal(0, window.LastNumberSent);
        Assert.True(window.AllAcknowledged);

        Assert.Equal(1, window.Add("a", TimeSpan.Zero));

        Assert.Equal((1L, 1, 1, 1), (window.LastNumberSent, window.InFlight, window.Unacknowledged, window.CongestionWindow));
        Assert.False(window.CanSend);
        Assert.False(window.AllAcknowledged);
    }

    [Fact]
    public void Add_WindowFull_Throws()
    {
        var driver = new SendDriver(congestionWindow: 2);
        driver.Send(2);

        Assert.False(driver.Window.CanSend);
        Assert.Throws<InvalidOperationException>(() => driver.Window.Add("x", TimeSpan.Zero));
    }

    [Theory]
    [InlineData(8, "2,4,8,8,8")]
    [InlineData(5, "2,4,5,5,5")]
    [InlineData(1, "1,1,1,1,1")]
    [InlineData(32, "2,4,8,16,32")]
    public void CongestionWindow_SlowStart_DoublesPerRoundUpToMax(int maxWindow, string expected)
    {
        var window = new SendWindow<int>(maxWindow, 8, TimeSpan.FromMilliseconds(100), flowControl: false);
        var newly = new List<long>();
        var observed = new List<int>();
        for (int round = 0; round < 5; round++)
        {
            int sent = 0;
            while (window.CanSend)
            {
                window.Add(sent++, TimeSpan.Zero);
            }

            Assert.Equal(window.CongestionWindow, sent);
            window.Acknowledge([new SequenceRange(1, window.LastNumberSent)], null, TimeSpan.Zero, newly);
            observed.Add(window.CongestionWindow);
        }

        Assert.Equal(expected, string.Join(",", observed));
    }

    [Fact]
    public void CongestionWindow_AckedAhead_GrowsOnlyOnceSlid()
    {
        var driver = new SendDriver(maxWindow: 16, congestionWindow: 4);
        driver.Send(4);

        driver.Ack("2-4");
        Assert.Equal(4, driver.Window.CongestionWindow);

        driver.Ack("1-4");
        Assert.Equal(8, driver.Window.CongestionWindow);
    }

    [Fact]
    public void CongestionWindow_AboveThreshold_GrowsByOnePerWindowOfAcks()
    {
        var driver = new SendDriver(maxWindow: 16, congestionWindow: 16);
        driver.Send(16);
        driver.Window.Retransmit(TimeSpan.FromSeconds(1));
        Assert.Equal((1, 8), (driver.Window.CongestionWindow, driver.Window.SlowStartThreshold));

        // 7 slid messages take slow start from 1 to the threshold 8; the other 9 earn one more (8 per step).
        driver.Ack("1-16");

        Assert.Equal(9, driver.Window.CongestionWindow);
    }

    [Fact]
    public void AckRequestDue_OnTheMessageThatFillsTheWindow()
    {
        var driver = new SendDriver(congestionWindow: 4);

        var due = new List<bool>();
        for (int i = 0; i < 4; i++)
        {
            driver.Send(1);
            due.Add(driver.Window.AckRequestDue);
        }

        Assert.Equal([false, false, false, true], due);
    }

    [Fact]
    public void AckRequestDue_FirstMessageOfASession_FillsTheInitialWindow()
    {
        var window = new SendWindow<int>(8, 8, TimeSpan.FromMilliseconds(100), flowControl: true);

        window.Add(1, TimeSpan.Zero);

        Assert.True(window.AckRequestDue);
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, null)]
    public void Quota_WithoutFlowControlOrBeforeBufferRemaining_IsUnlimited(bool flowControl, int? bufferRemaining)
    {
        var driver = new SendDriver(congestionWindow: 4, flowControl: flowControl);
        driver.Send(2);

        driver.Ack("1-2", bufferRemaining);

        Assert.Equal(int.MaxValue, driver.Window.Quota);
        Assert.True(driver.Window.CanSend);
    }

    [Fact]
    public void Quota_IsBufferRemainingMinusStillUnacknowledged()
    {
        var driver = new SendDriver(congestionWindow: 8, flowControl: true);
        driver.Send(4);

        driver.Ack("1,3", bufferRemaining: 5);

        Assert.Equal(5 - 2, driver.Window.Quota);
    }

    [Fact]
    public void Quota_Exhausted_BlocksUntilAnAckAdvertisesRoom()
    {
        var driver = new SendDriver(congestionWindow: 8, flowControl: true);
        driver.Ack("", bufferRemaining: 2);
        Assert.Equal(2, driver.Window.Quota);

        driver.Send(1);
        Assert.Equal((1, false), (driver.Window.Quota, driver.Window.AckRequestDue));
        driver.Send(1);
        Assert.Equal((0, true), (driver.Window.Quota, driver.Window.AckRequestDue)); // the quota's last message asks

        Assert.False(driver.Window.CanSend);
        Assert.Throws<InvalidOperationException>(() => driver.Window.Add("x", TimeSpan.Zero));

        driver.Ack("1-2", bufferRemaining: 0);
        Assert.False(driver.Window.CanSend);

        driver.Ack("1-2", bufferRemaining: 3); // the receiver's fresh ack once its service took something
        Assert.Equal(3, driver.Window.Quota);
        Assert.True(driver.Window.CanSend);
    }

    [Fact]
    public void Quota_StaleAckOmittingAcknowledgedNumbers_IsIgnored()
    {
        var driver = new SendDriver(congestionWindow: 8, flowControl: true);
        driver.Send(3);
        driver.Ack("1-3", bufferRemaining: 5);

        (AckVerdict verdict, string newly) = driver.Ack("1", bufferRemaining: 8); // overtaken by the one above

        Assert.Equal((AckVerdict.Ok, ""), (verdict, newly));
        Assert.Equal(5, driver.Window.Quota);
    }

    [Fact]
    public void Quota_StaleAckOmittingAnAckedAheadNumber_IsIgnored()
    {
        var driver = new SendDriver(congestionWindow: 8, flowControl: true);
        driver.Send(3);
        driver.Ack("3", bufferRemaining: 4);

        driver.Ack("1", bufferRemaining: 8);

        Assert.Equal(4 - 2, driver.Window.Quota);
    }

    [Theory]
    [InlineData("1-4")]   // 4 was never sent
    [InlineData("5")]
    [InlineData("1,3-9")]
    [InlineData("3-2")]   // malformed
    public void Acknowledge_NumberNeverSent_IsInvalidAndChangesNothing(string relativeRanges)
    {
        var driver = new SendDriver(congestionWindow: 4);
        driver.Send(3);

        (AckVerdict verdict, string newly) = driver.Ack(relativeRanges);

        Assert.Equal((AckVerdict.Invalid, ""), (verdict, newly));
        Assert.Equal((3, 3), (driver.Window.InFlight, driver.Window.Unacknowledged));
    }

    [Fact]
    public void Acknowledge_RangeFromZero_IsInvalid()
    {
        var window = new SendWindow<int>(8, 8, TimeSpan.FromMilliseconds(100), flowControl: false);
        window.Add(1, TimeSpan.Zero);

        Assert.Equal(AckVerdict.Invalid, window.Acknowledge([new SequenceRange(0, 1)], null, TimeSpan.Zero, []));
    }

    [Fact]
    public void Acknowledge_RangesWithGaps_MarkLaterMessagesWithoutSliding()
    {
        var driver = new SendDriver(congestionWindow: 8);
        driver.Send(5);

        (AckVerdict verdict, string newly) = driver.Ack("2,4-5");

        Assert.Equal((AckVerdict.Ok, "2,4,5"), (verdict, newly));
        Assert.Equal(driver.Abs(1), driver.Window.WindowStart);
        Assert.Equal((5, 2), (driver.Window.InFlight, driver.Window.Unacknowledged));
        Assert.True(driver.Window.TryGetUnacknowledged(driver.Abs(3), out string? third));
        Assert.Equal("m3", third);
        Assert.False(driver.Window.TryGetUnacknowledged(driver.Abs(4), out _));

        (_, newly) = driver.Ack("1-2,4-5");
        Assert.Equal("1", newly);
        Assert.Equal(driver.Abs(3), driver.Window.WindowStart);
        Assert.Equal((3, 1), (driver.Window.InFlight, driver.Window.Unacknowledged));

        (_, newly) = driver.Ack("1-5");
        Assert.Equal("3", newly);
        Assert.True(driver.Window.AllAcknowledged);
        Assert.Equal(driver.Abs(6), driver.Window.WindowStart);
    }

    [Fact]
    public void Acknowledge_AckedAheadKeepTheirSlots()
    {
        var driver = new SendDriver(congestionWindow: 4);
        driver.Send(4);

        driver.Ack("2-4");

        // Only message 1 is outstanding, yet the window is full: the receiver holds 2..4 for ordered delivery.
        Assert.Equal((4, 1), (driver.Window.InFlight, driver.Window.Unacknowledged));
        Assert.False(driver.Window.CanSend);
    }

    [Fact]
    public void Acknowledge_Repeated_ReportsNothingNew()
    {
        var driver = new SendDriver(congestionWindow: 4);
        driver.Send(3);
        driver.Ack("1-2");

        (AckVerdict verdict, string newly) = driver.Ack("1-2");

        Assert.Equal((AckVerdict.Ok, ""), (verdict, newly));
    }

    [Fact]
    public void Acknowledge_UnsortedOverlappingRanges_AcknowledgeEachOnce()
    {
        var driver = new SendDriver(congestionWindow: 4);
        driver.Send(4);
        var newly = new List<long>();
        SequenceRange[] ranges = [new(driver.Abs(3), driver.Abs(4)), new(1, driver.Abs(3)), new(driver.Abs(2), driver.Abs(2))];

        Assert.Equal(AckVerdict.Ok, driver.Window.Acknowledge(ranges, null, TimeSpan.Zero, newly));

        Assert.Equal("3,4,1,2", string.Join(",", newly.Select(driver.Rel)));
        Assert.True(driver.Window.AllAcknowledged);
    }

    [Fact]
    public void TryGetUnacknowledged_NeverSentOrAcknowledged_False()
    {
        var driver = new SendDriver(congestionWindow: 4);
        driver.Send(2);
        driver.Ack("1");

        Assert.False(driver.Window.TryGetUnacknowledged(driver.Abs(1), out _));
        Assert.False(driver.Window.TryGetUnacknowledged(driver.Abs(3), out _));
        Assert.False(driver.Window.TryGetUnacknowledged(0, out _));
        Assert.True(driver.Window.TryGetUnacknowledged(driver.Abs(2), out string? message));
        Assert.Equal("m2", message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Constructor_NonPositiveWindow_Throws(int maxWindow) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SendWindow<int>(maxWindow, 8, TimeSpan.Zero, false));
}
