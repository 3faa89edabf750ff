using Akka.Event;
using AkkaPortShare.Interop;

namespace AkkaPortShare.Worker.Listening;

/// <summary>
/// Lets through only the hand-over connections the router made. Anyone who can reach the socket file can connect,
/// so nothing is read from a connection (no token, no passed socket) until the kernel's record of its peer
/// (SO_PEERCRED, taken at accept) matches the router process the registry announced with AdmissionStarted.
/// </summary>
/// <remarks>
/// The registry announces itself and then connects, but the announcement crosses Akka.Remote and the connection does
/// not, so either may come first. A connection that comes first waits, unread, for a bounded time and in a bounded
/// number; once the router is known and still runs, any other peer is closed at once. Closing an unread connection
/// also closes the sockets queued in it: the kernel drops descriptors in flight with the connection.
/// </remarks>
internal sealed class RouterChannelGate(int capacity, TimeSpan waitLimit, IReadOnlySet<uint> routerUsers, ILoggingAdapter log,
    Action<RouterChannel> open, Action<RouterChannel> settled)
{
    /// <summary>The router process: the peer of every connection the worker reads.</summary>
    public sealed record RouterProcess(int ProcessId, uint UserId)
    {
        public override string ToString() => $"pid {ProcessId} (user {UnixUsers.Describe(UserId)})";
    }

    private readonly List<ConnectionSources.ChannelAccepted> _waiting = [];

    public RouterProcess? Router { get; private set; }

    public int Waiting => _waiting.Count;

    /// <summary>A new connection; true when it waits for the announcement (the caller bounds the wait).</summary>
    public bool Accepted(ConnectionSources.ChannelAccepted accepted)
    {
        if (IsRouter(accepted.Peer))
        {
            Open(accepted);
            return false;
        }
        if (Router is { } router && UnixProcesses.IsRunning(router.ProcessId))
        {
            Close(accepted, $"only the router, {router}, may connect");
            return false;
        }
        if (_waiting.Count >= capacity)
        {
            var oldest = _waiting[0];
            _waiting.RemoveAt(0);
            Close(oldest, $"{capacity} hand-over connections were already waiting for the router to announce itself");
        }
        _waiting.Add(accepted);
        log.Debug("Hand-over connection from {0} waits for the router to announce itself", Describe(accepted.Peer));
        return true;
    }

    /// <summary>The registry announced the router process (AdmissionStarted): waiting connections are settled.</summary>
    public void Announced(RouterProcess router)
    {
        // Akka.Remote does not authenticate who sent the announcement, so it is believed only within these bounds.
        if (!routerUsers.Contains(router.UserId))
        {
            log.Warning("Ignored the announcement of {0} as the router: its user is not in allowed-router-users ({1})",
                router, string.Join(", ", routerUsers.Order().Select(UnixUsers.Describe)));
            return;
        }
        if (Router is { } known && known != router && UnixProcesses.IsRunning(known.ProcessId))
        {
            log.Warning("Ignored the announcement of {0} as the router: the router is {1}, which still runs", router, known);
            return;
        }
        if (Router != router) log.Info("The router is {0}: only it may use the hand-over socket", router);
        Router = router;
        foreach (var accepted in _waiting.ToList())
        {
            _waiting.Remove(accepted);
            if (IsRouter(accepted.Peer)) Open(accepted);
            else Close(accepted, $"only the router, {router}, may connect");
        }
    }

    /// <summary>The wait of <paramref name="channel"/> is over: closed unless it was settled meanwhile.</summary>
    public void WaitEnded(RouterChannel channel)
    {
        var index = _waiting.FindIndex(a => a.Channel == channel);
        if (index < 0) return;
        var accepted = _waiting[index];
        _waiting.RemoveAt(index);
        Close(accepted, $"no router announced that process within {waitLimit.TotalSeconds:0.###} s");
    }

    public void CloseAll()
    {
        foreach (var accepted in _waiting) accepted.Channel.Dispose();
        _waiting.Clear();
    }

    private bool IsRouter(PeerCredentials peer) =>
        Router is { } router && peer.ProcessId == router.ProcessId && peer.UserId == router.UserId;

    private void Open(ConnectionSources.ChannelAccepted accepted)
    {
        log.Debug("Hand-over connection from the router {0} verified", Describe(accepted.Peer));
        settled(accepted.Channel);
        open(accepted.Channel);
    }

    private void Close(ConnectionSources.ChannelAccepted accepted, string why)
    {
        log.Warning("Closed a hand-over connection from {0} unread: {1}. Nothing it sent (token or socket) was used",
            Describe(accepted.Peer), why);
        settled(accepted.Channel);
        accepted.Channel.Dispose();
    }

    private static string Describe(PeerCredentials peer) => $"pid {peer.ProcessId} (user {UnixUsers.Describe(peer.UserId)})";
}
