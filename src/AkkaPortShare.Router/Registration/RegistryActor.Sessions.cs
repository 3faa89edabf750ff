using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Relay;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Registration;

/// <summary>
/// Reliable sessions of a shared address: a connection that reached a worker which does not hold its session goes to
/// the one that does (the session's identifier names it, see <see cref="SessionRouteKey"/>): passed back by the worker
/// when it came through a hand-over, or carried there by the worker itself, which asks here where that is, when it
/// came through a relay.
/// </summary>
internal sealed partial class RegistryActor
{
    private ResumedRelay? _resumedRelay; // made at the first relayed move

    // The worker passed the connection back with every byte since its preamble; the session's worker gets it, told
    // that the client has its PreambleAck. Only a holder of the connection's own via can get it: a client that names
    // another worker's key reaches nothing it could not reach anyway.
    private void OnMoveToSessionHolder(MoveToSessionHolder move)
    {
        var preamble = new PreambleDecoder(_settings.MaxViaSize, _settings.MaxContentTypeSize);
        preamble.Decode(move.AlreadyRead);
        if (preamble is not { Stage: PreambleStage.Complete, Via: { } via })
        {
            _log.Warning("A worker passed on a connection for session holder {0} without a complete preamble ({1}); closing it",
                move.Holder, preamble.Stage == PreambleStage.Failed ? preamble.Error.ToString() : "incomplete");
            move.Socket.Dispose();
            return;
        }
        PassResumed(move.Socket, move.AlreadyRead, via, move.Holder, reason: null);
    }

    // Another router, or this one, relayed a reliable session's connection to a worker that does not hold the session;
    // it asks for the holder's data endpoint to carry the connection there. Answered only to a proven worker that holds
    // the address itself (anyone else is ignored, as for ConnectionLoad), and only with a holder of that address:
    // its own workers and other routers' alike, one that answers (not on a silent node), never the asker.
    private void OnFindSessionHolder(FindSessionHolder find)
    {
        if (!_settings.RegistrationSecret.Matches(find.Secret)) return;
        var asker = find.ChannelToken is { } token ? _state.Workers.ByToken(token) : _state.Workers.ByActor(Sender);
        if (asker is null || !BaseAddress.TryParse(find.BaseAddress, out var address, out _) || !SessionRouteKey.TryParse(find.SessionKey, out var key))
        {
            _log.Debug("Ignored a session holder question from {0}: not an admitted worker, or not an address and key", Sender.Path.Address);
            return;
        }
        var holders = _state.Workers.Holders(address);
        if (!holders.Contains(asker))
        {
            _log.Debug("Ignored a session holder question for {0} from {1}: it does not hold that address", address, asker.Describe());
            return;
        }
        var holder = holders.FirstOrDefault(h => h != asker && h.SessionKey == key && IsAnswering(h));
        if (holder is null) _log.Info("No worker of {0} holds reliable session key {1} now ({2} asked)", address, key, asker.Describe());
        Sender.Tell(holder is null
            ? new SessionHolder(find.RequestId, null, 0)
            : new SessionHolder(find.RequestId, holder.Endpoint.DataHost, holder.Endpoint.DataPort));
    }

    /// <summary>
    /// To the worker <paramref name="holder"/> names when it holds the via: handed over when it takes sockets from
    /// here, else relayed (another router's worker, or one admitted for relay: see <see cref="ResumedRelay"/>). With
    /// no such worker, to any holder of the via that takes sockets: there the session is unknown, and the client gets
    /// WS-RM's UnknownSequence. With none of those either, the client gets ConnectionDispatchFailed.
    /// </summary>
    private void PassResumed(Socket socket, byte[] fromPreambleStart, string via, SessionRouteKey? holder, string? reason)
    {
        RegisteredWorker? target = null;
        if (LocalEndPointOf(socket) is { } local && _state.Workers.TryMatch(via, local, out _, out var holders))
            target = holders!.FirstOrDefault(h => holder is not null && h.SessionKey == holder && IsAnswering(h))
                     ?? holders!.FirstOrDefault(h => h.PassSockets);
        if (target is null)
        {
            _log.Warning("Could not pass a moved reliable session's connection for {0} to a worker{1}: ConnectionDispatchFailed",
                via, reason is null ? "" : $" ({reason})");
            _drains.Tell(new DrainAfterFault(socket, FramingFaults.ConnectionDispatchFailed, via));
            return;
        }
        if (holder is { } wanted && target.SessionKey != wanted)
            _log.Info("The worker holding reliable session key {0} of {1} is not here any more: {2} answers for it", wanted, via, target.Describe());
        else _log.Debug("Passing a reliable session's connection for {0} to its worker {1}", via, target.Describe());
        if (target is { PassSockets: true, Gateway: { } gateway })
        {
            HeldConnections.Get(Context.System).Hold(socket, HeldStage.WaitingForHandover);
            gateway.Tell(new HandOver(socket, fromPreambleStart, via) { Resumed = true });
            return;
        }
        _resumedRelay ??= new ResumedRelay(_settings, HeldConnections.Get(Context.System), _drains, _log, RelayEngines.Get(Context.System, _settings));
        if (_resumedRelay.TryStart(socket, fromPreambleStart, target.Endpoint, via)) return;
        _log.Warning("Cannot relay a moved reliable session's connection for {0}: max-relayed-connections {1} reached: ConnectionDispatchFailed",
            via, _settings.MaxRelayedConnections);
        _drains.Tell(new DrainAfterFault(socket, FramingFaults.ConnectionDispatchFailed, via));
    }
}
