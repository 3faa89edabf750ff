using Akka.Event;
using AkkaPortShare.Router.Connections;

namespace AkkaPortShare.Router.Listening;

/// <summary>
/// What the accept thread waits on while max-held-connections are held: like the Windows service, the router then
/// stops accepting, and new clients wait in the kernel's backlog until a held connection is let go (handed over,
/// answered, timed out: every stage ends within its own bound). Logged once when the bound is reached and once
/// when accepting resumes.
/// </summary>
internal sealed class HeldRoom(HeldConnections held, int bound, TimeSpan pollInterval, ILoggingAdapter log)
{
    /// <exception cref="OperationCanceledException"><paramref name="stopping"/> was cancelled while it waited.</exception>
    public void Wait(CancellationToken stopping)
    {
        if (held.Count < bound) return;
        // A stage that forgot to report (a bug) must not stop accepting for good: closed sockets are not held.
        if (held.ReleaseClosed() is > 0 and var dropped)
            log.Warning("{0} closed connection(s) were still counted as held; dropped from the count", dropped);
        if (held.Count < bound) return;
        // One waiter (the accept thread): one line when it starts waiting, one when it stops.
        log.Warning("max-held-connections {0} reached ({1}): not accepting until one is let go; new clients wait in the kernel backlog",
            bound, held.Describe());
        // Held connections end on other threads and actors without telling anyone: look again every held-poll-interval.
        while (held.Count >= bound)
            if (stopping.WaitHandle.WaitOne(pollInterval)) stopping.ThrowIfCancellationRequested();
        log.Info("Accepting again: {0} connection(s) held (max-held-connections {1})", held.Count, bound);
    }
}
