using Akka.Event;
using AkkaPortShare.Worker.Configuration;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Back-pressure, as WCF's one-reply-at-a-time writer gets from TCP: a connection stops reading while its unsent
/// bytes are at max-unsent-bytes (until they fall to half), or while it has any and the worker's total is over
/// max-unsent-bytes-total. A client that never reads then fills its own socket buffers, not the worker's heap.
/// Also keeps this connection's share of the worker's unsent total up to date.
/// </summary>
internal sealed class BackPressure(ConnectionBudget budget, WorkerSettings settings, ILoggingAdapter log, string peer)
{
    private long _counted; // this connection's share of the worker's unsent bytes
    private bool _logged;

    /// <summary>Whether reading must stop with <paramref name="unsent"/> bytes unsent; <paramref name="wasBlocked"/>: it had stopped.</summary>
    public bool Weigh(long unsent, bool wasBlocked)
    {
        budget.AddUnsent(unsent - _counted);
        _counted = unsent;
        var overOwn = wasBlocked ? unsent > settings.MaxUnsentBytes / 2 : unsent >= settings.MaxUnsentBytes;
        var blocked = overOwn || unsent > 0 && budget.UnsentBytes > settings.MaxUnsentBytesTotal;
        if (blocked && !_logged)
        {
            // Once per connection: a client that reads slowly may pass the bound often.
            _logged = true;
            log.Info("Connection from {0} is not reading its replies: {1} bytes unsent (max-unsent-bytes {2}, worker total {3} of {4}); " +
                     "reading from it stops until they are written", peer, unsent, settings.MaxUnsentBytes, budget.UnsentBytes,
                settings.MaxUnsentBytesTotal);
        }
        return blocked;
    }

    /// <summary>The connection is gone: its unsent bytes no longer count.</summary>
    public void Release()
    {
        budget.AddUnsent(-_counted);
        _counted = 0;
    }
}
