namespace AkkaPortShare.Protocol.Tests.TransferWindows;

/// <summary>
/// Property-style runs over a lossy channel (20% drops, 10% duplicates, reordering latency) in both directions:
/// whatever the network does, every message reaches the service exactly once, and in order when ordered.
/// </summary>
public sealed class LossyChannelTests
{
    private const int Messages = 20_000;

    [Theory]
    [InlineData(1, 8)]
    [InlineData(2, 8)]
    [InlineData(3, 3)]
    public void Ordered_FlowControl_DeliversEachOnceInOrderNeverBeyondWindow(int seed, int window)
    {
        var sim = new LossySessionSimulation(new(seed, Messages, window, Ordered: true, FlowControl: true));

        sim.Run();

        Assert.False(sim.Exhausted);
        AssertInOrder(sim.Delivered);
        Assert.True(sim.MaxInFlight <= window);
        Assert.Equal(0, sim.BeyondWindowCount); // flow control kept the sender inside the receiver's buffer
        Assert.True(sim.DataPacketsDropped > Messages / 10, "the channel should really have been lossy");
        Assert.True(sim.ReceiverDuplicates > 0);
        Assert.True(sim.QuotaStalls > 0 && sim.FreshAcks > 0, "the service's stalls should have engaged flow control");
    }

    [Fact]
    public void Ordered_NoFlowControl_RefusedMessagesAreResentAndDeliveredOnce()
    {
        var sim = new LossySessionSimulation(new(4, Messages, 8, Ordered: true, FlowControl: false));

        sim.Run();

        Assert.False(sim.Exhausted);
        AssertInOrder(sim.Delivered);
        Assert.True(sim.MaxInFlight <= 8);
        Assert.True(sim.BeyondWindowCount > 0, "without flow control the service's stalls should have caused refusals");
    }

    [Fact]
    public void Unordered_FlowControl_DeliversEachExactlyOnce()
    {
        var sim = new LossySessionSimulation(new(5, Messages, 8, Ordered: false, FlowControl: true));

        sim.Run();

        Assert.False(sim.Exhausted);
        Assert.Equal(Messages, sim.Delivered.Count);
        var seen = new bool[Messages + 1];
        foreach (long n in sim.Delivered)
        {
            Assert.False(seen[n], $"message {n} delivered twice");
            seen[n] = true;
        }

        Assert.Equal(0, sim.BeyondWindowCount);
        Assert.NotEqual(Enumerable.Range(1, Messages).Select(n => (long)n), sim.Delivered); // reordering showed through
    }

    private static void AssertInOrder(List<long> delivered)
    {
        Assert.Equal(Messages, delivered.Count);
        for (int i = 0; i < delivered.Count; i++)
        {
            if (delivered[i] != i + 1)
            {
                Assert.Fail($"position {i}: expected {i + 1}, got {delivered[i]}");
            }
        }
    }
}
