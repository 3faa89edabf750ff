using System.Collections.Immutable;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>
/// WCF's pending-channel queue of a reliable listener, as a value: established sessions wait here (at most
/// <see cref="MaxPending"/>; one more is refused, ConnectionLimitReached) until the service takes them, and it takes
/// at most <see cref="MaxConcurrent"/> at once (max-concurrent-sessions). First come, first accepted.
/// </summary>
internal sealed record PendingChannelQueue<T>(int MaxPending, int MaxConcurrent) where T : notnull
{
    /// <summary>Established, waiting to be accepted, oldest first.</summary>
    public ImmutableQueue<T> Pending { get; private init; } = [];

    public int PendingCount { get; private init; }

    /// <summary>Taken by the service and not yet ended.</summary>
    public ImmutableHashSet<T> Accepted { get; private init; } = [];

    /// <summary>The queue has no room for another session: a new one is refused.</summary>
    public bool IsFull => PendingCount >= MaxPending;

    /// <summary>Queues <paramref name="channel"/> unless the queue is full (then returns this, unchanged, and false).</summary>
    public PendingChannelQueue<T> Add(T channel, out bool added)
    {
        added = !IsFull;
        return added ? this with { Pending = Pending.Enqueue(channel), PendingCount = PendingCount + 1 } : this;
    }

    /// <summary>Accepts the oldest waiting sessions while fewer than <see cref="MaxConcurrent"/> are accepted.</summary>
    /// <param name="accepted">Those accepted now, in order: the caller tells each.</param>
    public PendingChannelQueue<T> AcceptWhatFits(out IReadOnlyList<T> accepted)
    {
        var now = new List<T>();
        var pending = Pending;
        var taken = Accepted;
        while (!pending.IsEmpty && taken.Count < MaxConcurrent)
        {
            pending = pending.Dequeue(out var next);
            taken = taken.Add(next);
            now.Add(next);
        }
        accepted = now;
        return now.Count == 0 ? this : this with { Pending = pending, PendingCount = PendingCount - now.Count, Accepted = taken };
    }

    /// <summary>An ended session leaves the queue, waiting or accepted; its place may go to a waiting one (AcceptWhatFits).</summary>
    public PendingChannelQueue<T> Remove(T channel)
    {
        if (Accepted.Contains(channel)) return this with { Accepted = Accepted.Remove(channel) };
        if (!Pending.Contains(channel)) return this;
        var pending = ImmutableQueue.CreateRange(Pending.Where(c => !EqualityComparer<T>.Default.Equals(c, channel)));
        return this with { Pending = pending, PendingCount = pending.Count() };
    }
}
