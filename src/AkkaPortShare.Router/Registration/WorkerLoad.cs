using AkkaPortShare.Router.Configuration;

namespace AkkaPortShare.Router.Registration;

/// <summary>
/// How many connections one worker holds, as far as the router can tell without keeping anything per connection:
/// the count the worker last reported (ConnectionLoad, coalesced by the worker) plus the
/// connections passed to it since. Read and counted by the accept loops and connection actors; reported by the
/// registry. Lock-free: a pick reads two ints and adds one.
/// </summary>
/// <remarks>
/// A report resets the router's own count, so hand-overs still on their way when the worker counted are missed
/// until its next report (at most load-report-interval later): an estimate that errs briefly, never drifts.
/// </remarks>
internal sealed class WorkerLoad
{
    private int _reported;
    private int _sinceReport;

    public int Estimate => Volatile.Read(ref _reported) + Volatile.Read(ref _sinceReport);

    /// <summary>A connection was routed to this worker.</summary>
    public void Routed() => Interlocked.Increment(ref _sinceReport);

    /// <summary>Registry: the worker says it holds <paramref name="openConnections"/> now.</summary>
    public void Report(int openConnections)
    {
        Volatile.Write(ref _reported, openConnections);
        Interlocked.Exchange(ref _sinceReport, 0);
    }
}

/// <summary>
/// The one choice among a shared address's holders, made the same way by every routing path (the accept loops'
/// direct hand-over and connection actors through <see cref="RouteSnapshot"/>, the registry's Resolve). No
/// allocation: a turn counter and one pass over the holders.
/// </summary>
internal sealed class HolderPicker(SharedAddressBalancing balancing)
{
    private int _turn;

    /// <summary>The index of the holder the next connection goes to, and counts it as routed there.</summary>
    public int Pick(ReadOnlySpan<WorkerLoad> loads)
    {
        if (loads.Length == 1) return 0; // the common case (an address not shared) pays nothing
        var start = (int)((uint)Interlocked.Increment(ref _turn) % (uint)loads.Length);
        var best = start;
        if (balancing == SharedAddressBalancing.LeastConnections)
        {
            var least = loads[start].Estimate;
            for (var i = 1; i < loads.Length; i++)
            {
                var index = (start + i) % loads.Length;
                var estimate = loads[index].Estimate;
                if (estimate < least)
                {
                    least = estimate;
                    best = index;
                }
            }
        }
        loads[best].Routed();
        return best;
    }
}
