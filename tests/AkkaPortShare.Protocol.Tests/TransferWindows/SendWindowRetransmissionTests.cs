using AkkaPortShare.Protocol.TransferWindows;

namespace AkkaPortShare.Protocol.Tests.TransferWindows;

public sealed class SendWindowRetransmissionTests
{
    private static TimeSpan Ms(double milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    [Fact]
    public void Retransmit_ResendsOnlyTheFirstUnacknowledged()
    {
        var driver = new SendDriver(congestionWindow: 8);
        driver.Send(4);
        driver.Ack("2-4");

        RetransmitResult result = driver.Window.Retransmit(Ms(500));

        Assert.Equal(new RetransmitResult(false, driver.Abs(1), 1), result);
        Assert.True(driver.Window.TryGetUnacknowledged(result.Number, out string? message));
        Assert.Equal("m1", message);
    }

    [Fact]
    public void Retransmit_FirstStillUnacked_SameNumberAgain()
    {
        var driver = new SendDriver(congestionWindow: 8);
        driver.Send(3);

        Assert.Equal(driver.Abs(1), driver.Window.Retransmit(Ms(500)).Number);
        Assert.Equal(driver.Abs(1), driver.Window.Retransmit(Ms(1500)).Number);

        driver.Ack("1");
        RetransmitResult next = driver.Window.Retransmit(Ms(5000));

        Assert.Equal((driver.Abs(2), 1), (next.Number, next.Attempt)); // a fresh message starts its own count
    }

    [Fact]
    public void Retransmit_DropsWindowToOneAndHalvesThreshold()
    {
        var driver = new SendDriver(congestionWindow: 8);
        driver.Send(8);

        driver.Window.Retransmit(Ms(500));

        Assert.Equal((1, 4), (driver.Window.CongestionWindow, driver.Window.SlowStartThreshold));
        Assert.False(driver.Window.CanSend);
    }

    [Fact]
    public void Retransmit_Repeated_ThresholdStaysHalfOfWhatIsOutstanding()
    {
        var driver = new SendDriver(congestionWindow: 8);
        driver.Send(8);

        driver.Window.Retransmit(Ms(500));
        driver.Window.Retransmit(Ms(1500));

        Assert.Equal((1, 4), (driver.Window.CongestionWindow, driver.Window.SlowStartThreshold));
    }

    [Fact]
    public void Retransmit_RtoDoublesPerRetryAndTimerRestarts()
    {
        var window = new SendWindow<int>(8, 8, Ms(100), flowControl: false);
        window.Add(1, TimeSpan.Zero);
        Assert.Equal(Ms(500), window.RetransmissionTimeout);
        Assert.Equal(Ms(500), window.NextRetransmissionDue);

        var timeouts = new List<double>();
        var dues = new List<double>();
        TimeSpan now = Ms(500);
        for (int i = 0; i < 4; i++)
        {
            window.Retransmit(now);
            timeouts.Add(window.RetransmissionTimeout.TotalMilliseconds);
            dues.Add(window.NextRetransmissionDue!.Value.TotalMilliseconds);
            now = window.NextRetransmissionDue.Value;
        }

        Assert.Equal([1000, 2000, 4000, 8000], timeouts);
        Assert.Equal([1500, 3500, 7500, 15500], dues);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public void Retransmit_BeyondMaxRetryCount_Exhausts(int maxRetryCount)
    {
        var window = new SendWindow<int>(8, maxRetryCount, Ms(100), flowControl: false);
        window.Add(1, TimeSpan.Zero);
        int transmissions = 1;

        RetransmitResult result;
        while (!(result = window.Retransmit(window.NextRetransmissionDue!.Value)).Exhausted)
        {
            transmissions++;
            Assert.Equal(transmissions - 1, result.Attempt);
        }

        Assert.Equal(1 + maxRetryCount, transmissions);
        Assert.Equal(new RetransmitResult(true, 1, maxRetryCount + 1), result);
    }

    [Fact]
    public void Retransmit_NothingInFlight_Throws()
    {
        var window = new SendWindow<int>(8, 8, Ms(100), flowControl: false);

        Assert.Throws<InvalidOperationException>(() => window.Retransmit(TimeSpan.Zero));
    }

    [Theory]
    [InlineData(100, 500)]   // 400 ms + RTT
    [InlineData(200, 600)]
    [InlineData(300, 900)]   // 3·RTT takes over
    [InlineData(1000, 3000)]
    [InlineData(0, 400)]
    [InlineData(-1, 6000)]   // unusable handshake RTT: 2 s assumed
    public void RetransmissionTimeout_Initial_IsMaxOf400PlusRttAndThreeRtt(double roundTripMs, double expectedMs)
    {
        var window = new SendWindow<int>(8, 8, Ms(roundTripMs), flowControl: false);

        Assert.Equal(Ms(expectedMs), window.RetransmissionTimeout);
    }

    [Fact]
    public void Acknowledge_MeasuredRoundTrips_UpdateSrttAndRto()
    {
        var window = new SendWindow<int>(8, 8, Ms(1000), flowControl: false);
        Assert.Equal((Ms(1000), Ms(500)), (window.SmoothedRoundTrip, window.RoundTripVariation));

        window.Add(1, TimeSpan.Zero);
        window.Acknowledge([new SequenceRange(1, 1)], null, Ms(200), []);

        // error -800: RTTVAR 500 + (800 - 500)/4 = 575, SRTT 1000 - 800/8 = 900, RTO max(1300, 900 + 2300).
        Assert.Equal((Ms(900), Ms(575), Ms(3200)), (window.SmoothedRoundTrip, window.RoundTripVariation, window.RetransmissionTimeout));

        window.Add(2, Ms(1000));
        window.Add(3, Ms(1000));
        window.Acknowledge([new SequenceRange(1, 3)], null, Ms(1200), []);

        // error -700: RTTVAR 575 + (700 - 575)/4 = 606.25, SRTT 900 - 87.5 = 812.5, RTO 812.5 + 2425.
        Assert.Equal((Ms(812.5), Ms(606.25), Ms(3237.5)), (window.SmoothedRoundTrip, window.RoundTripVariation, window.RetransmissionTimeout));
    }

    [Fact]
    public void Acknowledge_CumulativeAck_SamplesTheNewestSlidMessage()
    {
        var window = new SendWindow<int>(8, 8, Ms(100), flowControl: false);
        window.Add(1, TimeSpan.Zero);
        window.Acknowledge([new SequenceRange(1, 1)], null, Ms(100), []);
        window.Add(2, Ms(100));
        window.Add(3, Ms(150));

        window.Acknowledge([new SequenceRange(1, 3)], null, Ms(250), []);

        // Sample 100 ms (from message 3), not 150 ms (message 2 waited for the batched ack).
        Assert.Equal(Ms(100), window.SmoothedRoundTrip);
    }

    [Fact]
    public void Acknowledge_RetransmittedMessage_GivesNoSampleButEndsBackoff()
    {
        var window = new SendWindow<int>(8, 8, Ms(1000), flowControl: false);
        window.Add(1, TimeSpan.Zero);
        window.Retransmit(Ms(3000));
        Assert.Equal(Ms(6000), window.RetransmissionTimeout);

        window.Acknowledge([new SequenceRange(1, 1)], null, Ms(3100), []);

        // Ambiguous (first send or resend?), so no sample; the RTO is the unchanged estimate again.
        Assert.Equal((Ms(1000), Ms(3000)), (window.SmoothedRoundTrip, window.RetransmissionTimeout));

        window.Add(2, Ms(4000));
        window.Acknowledge([new SequenceRange(1, 2)], null, Ms(4200), []);

        Assert.Equal((Ms(900), Ms(3200)), (window.SmoothedRoundTrip, window.RetransmissionTimeout));
    }

    [Fact]
    public void Acknowledge_SlidingPastARetransmission_GivesNoSampleEvenForFreshMessages()
    {
        var driver = new SendDriver(congestionWindow: 4, roundTrip: Ms(100));
        TimeSpan before = driver.Window.SmoothedRoundTrip;
        driver.Send(2, at: Ms(1000));
        driver.Window.Retransmit(Ms(1500));

        // Message 2 was sent once, but its acks may all have been lost: it could have waited out the whole RTO.
        driver.Ack("1-2", at: Ms(4000));

        Assert.Equal(before, driver.Window.SmoothedRoundTrip);
    }

    [Fact]
    public void Acknowledge_AckedAheadOnly_KeepsTheBackoff()
    {
        var driver = new SendDriver(congestionWindow: 4, roundTrip: Ms(100));
        driver.Send(2, at: Ms(1000));
        driver.Window.Retransmit(Ms(1500));
        TimeSpan backedOff = driver.Window.RetransmissionTimeout;

        driver.Ack("2", at: Ms(1600)); // message 1, the one being retried, is still missing

        Assert.Equal(backedOff, driver.Window.RetransmissionTimeout);
    }

    [Fact]
    public void Acknowledge_AckedAheadEarlier_GivesNoSampleWhenSlid()
    {
        var driver = new SendDriver(congestionWindow: 4, roundTrip: Ms(100));
        TimeSpan before = driver.Window.SmoothedRoundTrip;
        driver.Send(2, at: Ms(1000));
        driver.Ack("2", at: Ms(1100));                  // 2 acked ahead: no slide, no sample
        driver.Window.Retransmit(Ms(2000));             // 1 resent: Karn excludes it

        driver.Ack("1-2", at: Ms(5000));                // slides 1 and 2, neither a valid sample

        Assert.Equal(before, driver.Window.SmoothedRoundTrip);
    }

    [Fact]
    public void NextRetransmissionDue_FollowsTheOldestUnacknowledged()
    {
        var driver = new SendDriver(congestionWindow: 4, roundTrip: Ms(100));
        Assert.Null(driver.Window.NextRetransmissionDue);

        driver.Send(1, at: Ms(1000));
        TimeSpan rto = driver.Window.RetransmissionTimeout;
        Assert.Equal(Ms(1000) + rto, driver.Window.NextRetransmissionDue);

        driver.Send(1, at: Ms(1100)); // a later send does not push the timer out
        Assert.Equal(Ms(1000) + rto, driver.Window.NextRetransmissionDue);

        driver.Ack("1", at: Ms(1200)); // the window slid: the timer restarts for message 2
        Assert.Equal(Ms(1200) + driver.Window.RetransmissionTimeout, driver.Window.NextRetransmissionDue);

        driver.Ack("1-2", at: Ms(1300));
        Assert.Null(driver.Window.NextRetransmissionDue);
    }
}
