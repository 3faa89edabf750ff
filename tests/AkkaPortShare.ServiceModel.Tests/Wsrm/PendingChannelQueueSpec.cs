using AkkaPortShare.ServiceModel.Wsrm;

namespace AkkaPortShare.ServiceModel.Tests.Wsrm;

/// <summary>The pending-channel queue as a value: what waits, what is accepted, what is refused.</summary>
public sealed class PendingChannelQueueSpec
{
    private static PendingChannelQueue<string> Queue(int maxPending, int maxConcurrent, params string[] added)
    {
        var queue = new PendingChannelQueue<string>(maxPending, maxConcurrent);
        foreach (var channel in added)
        {
            queue = queue.Add(channel, out var ok);
            Assert.True(ok, $"{channel} was refused");
        }
        return queue;
    }

    [Fact]
    public void PendingChannelQueue_must_accept_the_oldest_waiting_channels_up_to_max_concurrent()
    {
        var queue = Queue(maxPending: 4, maxConcurrent: 2, "a", "b", "c");

        queue = queue.AcceptWhatFits(out var accepted);

        Assert.Equal(["a", "b"], accepted);
        Assert.Equal(["c"], queue.Pending);
        Assert.Equal(1, queue.PendingCount);
        Assert.Equal(2, queue.Accepted.Count);

        queue.AcceptWhatFits(out var none);
        Assert.Empty(none); // nothing fits until one ends
    }

    [Fact]
    public void PendingChannelQueue_must_refuse_a_channel_once_max_pending_wait()
    {
        var queue = Queue(maxPending: 2, maxConcurrent: 1, "a").AcceptWhatFits(out _);
        queue = queue.Add("b", out _).Add("c", out _);
        Assert.True(queue.IsFull);

        var after = queue.Add("d", out var added);

        Assert.False(added);
        Assert.Same(queue, after);
        Assert.Equal(["b", "c"], after.Pending); // accepted ones do not count against max-pending
    }

    [Fact]
    public void PendingChannelQueue_must_give_the_place_of_an_ended_accepted_channel_to_the_oldest_waiting_one()
    {
        var queue = Queue(maxPending: 4, maxConcurrent: 1, "a", "b", "c").AcceptWhatFits(out _);

        queue = queue.Remove("a").AcceptWhatFits(out var accepted);

        Assert.Equal(["b"], accepted);
        Assert.Equal(["c"], queue.Pending);
        Assert.Equal(["b"], queue.Accepted);
    }

    [Fact]
    public void PendingChannelQueue_must_forget_an_ended_waiting_channel_without_accepting_anything()
    {
        var queue = Queue(maxPending: 2, maxConcurrent: 1, "a", "b").AcceptWhatFits(out _).Add("c", out _);
        Assert.True(queue.IsFull);

        queue = queue.Remove("b").AcceptWhatFits(out var accepted);

        Assert.Empty(accepted);
        Assert.Equal(["c"], queue.Pending);
        Assert.Equal(1, queue.PendingCount);
        Assert.False(queue.IsFull);
        Assert.Same(queue, queue.Remove("unknown"));
    }
}
