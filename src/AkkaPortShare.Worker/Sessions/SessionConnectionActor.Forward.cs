using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Handover;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// A reliable session's connection that came through a relay (the worker's data endpoint) while another worker of its
/// shared address holds the session: no router can take it back, so this worker carries it there
/// (<see cref="SessionForward"/>), after asking its router where that is. Nothing is decoded or read meanwhile, and a
/// read already waiting is cancelled first: every byte the client sent is then either in the buffer (and replayed
/// there) or still in the socket (and copied).
/// </summary>
internal sealed partial class SessionConnectionActor
{
    private bool _locating;                         // asked where the session's worker is: Paused until answered
    private SessionHolderLocated? _forwardTo;       // answered; waiting only for the read that was outstanding to end
    private CancellationTokenSource? _readCancel;   // a relayed connection that may move: its reads can be cancelled

    // Through the data endpoint, by a worker that shares its addresses and names its sessions (it has a key).
    private bool MayForward => _routerChannel is null && _settings.ShareAddresses && SessionRouting.For(Context.System).Key is not null;

    private CancellationToken ReadCancellation => _readCancel?.Token ?? CancellationToken.None;

    private void LocateHolder(MoveSession move)
    {
        if (_locating) return;
        _locating = true;
        _log.Info("Connection from {0}: its reliable session belongs to another worker of its address ({1}); asking the router where it is",
            _peer, move.Holder);
        Context.Parent.Tell(new LocateSessionHolder(_state.BaseAddress!, move.Holder));
    }

    private void OnHolderLocated(SessionHolderLocated located)
    {
        if (!_locating || _forwardTo is not null) return;
        if (located.DataHost is null || IsOwnDataEndpoint(located))
        {
            Stay(located.Reason ?? $"{located.DataHost}:{located.DataPort} is this worker's own data endpoint");
            return;
        }
        _forwardTo = located;
        if (_buffer.Lent) _readCancel!.Cancel(); // ForwardAfterRead, once the read ends
        else Forward();
    }

    /// <summary>The read outstanding when the worker was located ended: true when that finished the connection here.</summary>
    private bool ForwardAfterRead(int bytesRead)
    {
        if (_forwardTo is null) return false;
        if (bytesRead == 0) Abort("the client closed the connection while it was being carried to its session's worker");
        else Forward();
        return true;
    }

    /// <summary>
    /// Not moving after all: the handler reads on (the client sends again what it set aside), and a retry of the
    /// message finds the connection unmovable and is answered UnknownSequence.
    /// </summary>
    private void Stay(string reason)
    {
        _locating = false;
        _forwardTo = null;
        _movable = false;
        if (_readCancel is { IsCancellationRequested: true } cancelled)
        {
            cancelled.Dispose(); // its read has ended; the next ones need a token that is not cancelled already
            _readCancel = new CancellationTokenSource();
        }
        _log.Info("Connection from {0}: its reliable session's worker cannot be reached from here ({1}); the connection stays, " +
            "and the client's next try of its message is answered UnknownSequence", _peer, reason);
        _state.Handler?.Tell(SessionStays.Instance);
        Pump();
    }

    // A worker whose data endpoint the router names with an address that leads back here (a loopback data-endpoint
    // hostname on another host, say) would otherwise forward to itself, and on again, until max-connections.
    private bool IsOwnDataEndpoint(SessionHolderLocated located)
    {
        if (_socket.LocalEndPoint is not System.Net.IPEndPoint local || local.Port != located.DataPort) return false;
        // A host name is not resolved here (that would block): only an address can be told for certain.
        return System.Net.IPAddress.TryParse(located.DataHost, out var host) && (System.Net.IPAddress.IsLoopback(host)
            || host.Equals(local.Address) || (local.Address.IsIPv4MappedToIPv6 && host.Equals(local.Address.MapToIPv4())));
    }

    private void Forward()
    {
        // Something was written meanwhile (the service answered, or closed the session while the read ended): the
        // client's view of the connection can no longer be replayed elsewhere.
        if (!_movable || !_outbox.IsIdle)
        {
            Stay("something was written on it meanwhile");
            return;
        }
        var to = _forwardTo!;
        _socketGivenAway = true;
        _admitted = false; // the forward keeps this connection's place in max-connections until it ends
        SessionForward.Start(_socket, _buffer.FromPreambleStart.ToArray(), to.DataHost!, to.DataPort, _state.LastVia!, _settings, _budget, _log, _peer);
        Abort(null);
    }
}
