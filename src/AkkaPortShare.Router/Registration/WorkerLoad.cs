namespace AkkaPortShare.Router.Registration;

/// <summary>
/// How many connections one worker holds, as far as the router can tell without keeping anything per connection:
/// the count the worker last reported (ConnectionLoad, coalesced by the worker) plus the
/// connections passed to it since. Read and counted by the accept thread and connection actors; reported by the
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
