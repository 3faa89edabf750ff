using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Moving a connection to the worker that holds its reliable session (another worker of a shared address): back
/// through the router when it came through one (a hand-over), or carried there by this worker
/// (<see cref="SessionForward"/>) when it came through a relay to the data endpoint, after asking the router where.
/// Either way it goes with every byte the client sent since its preamble, so nothing is decoded or read while it
/// moves, and a read still waiting is cancelled first (its bytes, if it got any, are in the buffer, else still in the
/// socket): a read that completed unseen would otherwise take bytes out of the stream the other worker gets.
/// </summary>
internal sealed partial class SessionConnectionActor
{
    private bool _moving;                         // a move is under way: Paused, so nothing is decoded or read
    private Action? _afterRead;                   // the move's next step, once the read that was waiting has ended
    private CancellationTokenSource? _readCancel; // made with the first session that may move; its reads can be cancelled

    // Through the data endpoint, by a worker that shares its addresses and names its sessions (it has a key).
    private bool MayForward => _routerChannel is null && _settings.ShareAddresses && SessionRouting.For(Context.System).Key is not null;

    // Only while the session may move: a cancellable read costs a registration per read.
    private CancellationToken ReadCancellation => _movable && _readCancel is { } cancel ? cancel.Token : CancellationToken.None;

    /// <summary>
    /// The session's reliable session is held by another worker of the address: the connection goes there with every
    /// byte since its preamble, and is decoded there from the start. Only while nothing but the PreambleAck has been
    /// written (else the client's view of the connection could not be replayed); otherwise a hand-over connection is
    /// closed (the client's reliable session reconnects) and a relayed one stays.
    /// </summary>
    private void OnMoveSession(MoveSession move)
    {
        if (!_movable && _routerChannel is null)
        {
            // Asked for before it stayed (a second message's): the handler set its messages aside again, so it is told again.
            _state.Handler?.Tell(SessionStays.Instance);
            return;
        }
        if (!_movable)
        {
            Abort($"its reliable session is held by another worker of its address ({move.Holder}), and the connection " +
                  "can no longer move there (something was written on it, it is secured, or it was moved here already)");
            return;
        }
        if (_moving) return; // one move at a time; the first goes with every byte anyway
        _moving = true;
        if (_routerChannel is null)
        {
            _log.Info("Connection from {0}: its reliable session belongs to another worker of its address ({1}); asking the router where it is",
                _peer, move.Holder);
            Context.Parent.Tell(new LocateSessionHolder(_state.BaseAddress!, move.Holder));
            return;
        }
        AfterWaitingRead(() => PassBack(move));
    }

    private void PassBack(MoveSession move)
    {
        if (!_movable || !_outbox.IsIdle)
        {
            Abort($"its reliable session is held by another worker of its address ({move.Holder}), and something was " +
                  "written on the connection while the move waited for its read");
            return;
        }
        _log.Info("Connection from {0}: its reliable session belongs to another worker of its address ({1}); passing it there through the router",
            _peer, move.Holder);
        _socketGivenAway = true;
        try
        {
            _routerChannel!.MoveSession(_socket, move.Holder, _buffer.FromPreambleStart);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or ArgumentException)
        {
            _socketGivenAway = false; // still ours: closed as the actor stops, and the client reconnects
            _log.Warning("Could not pass {0}'s connection to the router ({1}); closing it", _peer, e.Message);
        }
        Abort(null);
    }

    private void OnHolderLocated(SessionHolderLocated located)
    {
        if (!_moving || _afterRead is not null || _routerChannel is not null) return;
        if (located.DataHost is null || IsOwnDataEndpoint(located))
        {
            Stay(located.Reason ?? $"{located.DataHost}:{located.DataPort} is this worker's own data endpoint");
            return;
        }
        AfterWaitingRead(() => Forward(located));
    }

    // Runs next now, or once the waiting read has ended (cancelled: ReadEnded).
    private void AfterWaitingRead(Action next)
    {
        if (!_buffer.Lent)
        {
            next();
            return;
        }
        _afterRead = next;
        _readCancel?.Cancel(); // without one (cannot happen for a movable session) the read ends when the client sends
    }

    /// <summary>A read ended (<paramref name="bytesRead"/> -1: cancelled) while a move waited for it: true when that finished the connection here.</summary>
    private bool ReadEnded(int bytesRead)
    {
        if (_afterRead is not { } next) return false;
        _afterRead = null;
        if (bytesRead == 0) Abort("the client closed the connection while it was moving to its session's worker");
        else next();
        return true;
    }

    private void Forward(SessionHolderLocated to)
    {
        // Something was written meanwhile (the service answered, or closed the session while the read ended): the
        // client's view of the connection can no longer be replayed elsewhere.
        if (!_movable || !_outbox.IsIdle)
        {
            Stay("something was written on it meanwhile");
            return;
        }
        _socketGivenAway = true;
        _admitted = false; // the forward keeps this connection's place in max-connections until it ends
        SessionForward.Start(_socket, _buffer.FromPreambleStart.ToArray(), to.DataHost!, to.DataPort, _state.LastVia!, _settings, _budget, _log, _peer);
        Abort(null);
    }

    /// <summary>
    /// A relayed connection that cannot move after all: the handler reads on (the client sends again what it set
    /// aside), and a retry of the message finds the connection unmovable and is answered UnknownSequence.
    /// </summary>
    private void Stay(string reason)
    {
        _moving = false;
        _afterRead = null;
        _movable = false;
        if (_readCancel is { IsCancellationRequested: true } cancelled)
        {
            cancelled.Dispose(); // its read has ended; a later session that may move needs a fresh one
            _readCancel = null;
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
        if (_socket.LocalEndPoint is not IPEndPoint local || local.Port != located.DataPort) return false;
        // A host name is not resolved here (that would block): only an address can be told for certain.
        return IPAddress.TryParse(located.DataHost, out var host) && (IPAddress.IsLoopback(host)
            || host.Equals(local.Address) || (local.Address.IsIPv4MappedToIPv6 && host.Equals(local.Address.MapToIPv4())));
    }
}
