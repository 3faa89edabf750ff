using AkkaPortShare.Protocol.TransferWindows;

namespace AkkaPortShare.Protocol.Tests.TransferWindows;

public sealed class AcknowledgementPolicyTests
{
    [Theory]
    [InlineData(true, false)]  // AckRequested
    [InlineData(false, true)]  // the last number became known
    [InlineData(true, true)]
    public void OnReceived_ImmediateTrigger_SendsNow(bool ackRequested, bool lastKnown)
    {
        var policy = new AcknowledgementPolicy(8, flowControl: true);

        Assert.Equal(AckAction.SendNow, policy.OnReceived(ReceiveOutcome.Accepted, ackRequested, lastKnown));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnReceived_Duplicate_SendsNow(bool ackRequested)
    {
        var policy = new AcknowledgementPolicy(8, flowControl: true);

        Assert.Equal(AckAction.SendNow, policy.OnReceived(ReceiveOutcome.Duplicate, ackRequested, false));
        Assert.Equal(0, policy.Unacknowledged);
    }

    [Fact]
    public void OnReceived_FirstUnacknowledged_SchedulesThenRidesTheTimer()
    {
        var policy = new AcknowledgementPolicy(8, flowControl: true);

        Assert.Equal(AckAction.Schedule, policy.OnReceived(ReceiveOutcome.Accepted, false, false));
        Assert.Equal(AckAction.None, policy.OnReceived(ReceiveOutcome.Accepted, false, false));
        Assert.Equal(AckAction.None, policy.OnReceived(ReceiveOutcome.Accepted, false, false));
        Assert.Equal(3, policy.Unacknowledged);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public void OnReceived_CountReachesWindow_SendsNow(int windowSize)
    {
        var policy = new AcknowledgementPolicy(windowSize, flowControl: false);
        for (int i = 1; i < windowSize; i++)
        {
            Assert.NotEqual(AckAction.SendNow, policy.OnReceived(ReceiveOutcome.Accepted, false, false));
        }

        Assert.Equal(AckAction.SendNow, policy.OnReceived(ReceiveOutcome.Accepted, false, false));
    }

    [Theory]
    [InlineData(16, 16)]   // up to 16: when the window is full, as WCF's receiver
    [InlineData(17, 16)]   // above: a quarter of the window, 16 at least
    [InlineData(64, 16)]
    [InlineData(512, 128)]
    [InlineData(4096, 1024)]
    public void OnReceived_LargeWindow_SendsNowEveryQuarter(int windowSize, int batch)
    {
        var policy = new AcknowledgementPolicy(windowSize, flowControl: true);
        Assert.Equal(batch, policy.BatchSize);

        for (var round = 0; round < 3; round++)
        {
            for (var i = 1; i < batch; i++)
            {
                Assert.NotEqual(AckAction.SendNow, policy.OnReceived(ReceiveOutcome.Accepted, false, false));
            }

            Assert.Equal(AckAction.SendNow, policy.OnReceived(ReceiveOutcome.Accepted, false, false));
            policy.OnAckSent(windowSize);
        }
    }

    [Fact]
    public void OnAckSent_ResetsTheCount_NextArrivalSchedulesAgain()
    {
        var policy = new AcknowledgementPolicy(3, flowControl: true);
        policy.OnReceived(ReceiveOutcome.Accepted, false, false);
        policy.OnReceived(ReceiveOutcome.Accepted, false, false);

        policy.OnAckSent(1);

        Assert.Equal(0, policy.Unacknowledged);
        Assert.Equal(AckAction.Schedule, policy.OnReceived(ReceiveOutcome.Accepted, false, false));
        Assert.Equal(AckAction.None, policy.OnReceived(ReceiveOutcome.Accepted, false, false));
        Assert.Equal(AckAction.SendNow, policy.OnReceived(ReceiveOutcome.Accepted, false, false));
    }

    [Theory]
    [InlineData(ReceiveOutcome.Invalid, false, AckAction.None)]
    [InlineData(ReceiveOutcome.Invalid, true, AckAction.None)]
    [InlineData(ReceiveOutcome.BeyondWindow, false, AckAction.None)]
    [InlineData(ReceiveOutcome.BeyondWindow, true, AckAction.SendNow)]
    public void OnReceived_NotAccepted_IsNotCounted(ReceiveOutcome outcome, bool ackRequested, AckAction expected)
    {
        var policy = new AcknowledgementPolicy(8, flowControl: true);

        Assert.Equal(expected, policy.OnReceived(outcome, ackRequested, false));
        Assert.Equal(0, policy.Unacknowledged);
    }

    [Fact]
    public void OnAckRequested_Standalone_SendsNow() =>
        Assert.Equal(AckAction.SendNow, new AcknowledgementPolicy(8, flowControl: false).OnAckRequested());

    [Theory]
    [InlineData(true, AckAction.SendNow)]
    [InlineData(false, AckAction.None)]
    public void OnTaken_RoomAfterAdvertisingZero_FreshAckOnlyWithFlowControl(bool flowControl, AckAction expected)
    {
        var policy = new AcknowledgementPolicy(4, flowControl);
        policy.OnAckSent(0);

        Assert.Equal(expected, policy.OnTaken(1));
    }

    [Theory]
    [InlineData(2, 3)] // the last ack advertised room already
    [InlineData(0, 0)] // still no room
    public void OnTaken_NoTransitionFromZero_None(int advertised, int remainingAfter)
    {
        var policy = new AcknowledgementPolicy(4, flowControl: true);
        policy.OnAckSent(advertised);

        Assert.Equal(AckAction.None, policy.OnTaken(remainingAfter));
    }

    [Fact]
    public void OnTaken_BeforeAnyAck_None() =>
        Assert.Equal(AckAction.None, new AcknowledgementPolicy(4, flowControl: true).OnTaken(4));

    [Fact]
    public void OnTaken_AfterTheFreshAckWent_None()
    {
        var policy = new AcknowledgementPolicy(4, flowControl: true);
        policy.OnAckSent(0);
        Assert.Equal(AckAction.SendNow, policy.OnTaken(1));

        policy.OnAckSent(1);

        Assert.Equal(AckAction.None, policy.OnTaken(2));
    }

    [Theory]
    [InlineData(8, 1, 4, AckAction.None)]      // grew by 3 of 8: the next batch will tell
    [InlineData(8, 1, 5, AckAction.SendNow)]   // grew by half the window since the last ack
    [InlineData(8, 3, 8, AckAction.SendNow)]
    [InlineData(1, 0, 1, AckAction.SendNow)]
    [InlineData(16, 4, 11, AckAction.None)]     // up to 16: half the window
    [InlineData(16, 4, 12, AckAction.SendNow)]
    [InlineData(512, 300, 427, AckAction.None)] // above: a quarter (the ack batch)
    [InlineData(512, 300, 428, AckAction.SendNow)]
    [InlineData(512, 413, 511, AckAction.None)]   // above 16: once everything is taken after an ack that told of less
    [InlineData(512, 413, 512, AckAction.SendNow)]
    [InlineData(16, 13, 16, AckAction.None)]      // up to 16: WCF's rules only
    public void OnTaken_RoomGrownByHalfTheWindow_FreshAck(int window, int advertised, int remainingAfter, AckAction expected)
    {
        var policy = new AcknowledgementPolicy(window, flowControl: true);
        policy.OnAckSent(advertised);

        Assert.Equal(expected, policy.OnTaken(remainingAfter));
    }

    [Fact]
    public void OnTaken_RoomGrownByHalfTheWindow_NoneWithoutFlowControl()
    {
        var policy = new AcknowledgementPolicy(8, flowControl: false);
        policy.OnAckSent(1);

        Assert.Equal(AckAction.None, policy.OnTaken(8));
    }
}
