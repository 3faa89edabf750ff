using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.ReliableSessions;
using AkkaPortShare.ServiceModel.Contracts;
using static AkkaPortShare.ServiceModel.ReliableMessaging.WsrmProtocol;

namespace AkkaPortShare.ServiceModel.ReliableMessaging;

/// <summary>
/// The reliable-session listener of one endpoint. It answers CreateSequence (idempotently: a resent request with a
/// known Offer maps back to its session), keeps every session under both its sequence identifiers, and holds
/// established sessions in the pending-channel queue until the service takes them (at most
/// max-concurrent-sessions at once). When max-pending-channels sessions are already waiting, a new one is refused
/// with CreateSequenceRefused / ConnectionLimitReached, which the WCF client reports as ServerTooBusyException.
/// </summary>
internal sealed class ReliableEndpointActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ContractMap _contract;
    private readonly IActorRef _implementation;
    private readonly ServiceModelSettings _serviceSettings;
    private readonly ReliableSessionSettings _settings;
    private readonly Dictionary<string, IActorRef> _sessionsById = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, (string InputId, string OfferId)> _ids = new();
    private readonly LinkedList<IActorRef> _pending = new();
    private readonly HashSet<IActorRef> _accepted = [];

    public static Props Props(ContractMap contract, IActorRef implementation, ServiceModelSettings serviceSettings,
        ReliableSessionSettings settings) =>
        Akka.Actor.Props.Create(() => new ReliableEndpointActor(contract, implementation, serviceSettings, settings));

    public ReliableEndpointActor(ContractMap contract, IActorRef implementation, ServiceModelSettings serviceSettings,
        ReliableSessionSettings settings)
    {
        _contract = contract;
        _implementation = implementation;
        _serviceSettings = serviceSettings;
        _settings = settings;
        Receive<RmReceived>(OnReceived);
        Receive<Terminated>(t => Forget(t.ActorRef));
    }

    // A session is a conversation with one client: when it fails it ends, it is not restarted.
    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    private void OnReceived(RmReceived received)
    {
        using var message = received.Message.CreateMessage();
        var version = received.Version;
        if (message.Headers.Action == version.CreateSequenceAction)
        {
            OnCreateSequence(received, message);
            return;
        }
        var id = IdentifierOf(message, version);
        if (id is not null && _sessionsById.TryGetValue(id, out var session))
        {
            session.Forward(received);
            return;
        }
        _log.Info("Reliable message for unknown sequence {0}: UnknownSequence", id ?? "(none)");
        Reply(received, WsrmFaults.UnknownSequence(message.Version, version, id ?? ""), message.Headers.MessageId);
    }

    private void OnCreateSequence(RmReceived received, Message message)
    {
        var version = received.Version;
        CreateSequenceRequest request;
        try
        {
            request = WsrmBodies.ReadCreateSequence(message.GetReaderAtBodyContents(), version);
        }
        catch (XmlException e)
        {
            Refuse(received, message, WsrmFaults.CreateSequenceRefused(message.Version, version, $"The request is malformed: {e.Message}"));
            return;
        }

        if (request.OfferIdentifier is not { } offerId)
        {
            // A duplex session needs the client's offered sequence for its replies.
            Refuse(received, message, WsrmFaults.CreateSequenceRefused(message.Version, version,
                "This endpoint sends replies and needs an offered sequence (Offer)."));
            return;
        }
        if (version.Is11 && request.OfferEndpoint != request.AcksTo)
        {
            Refuse(received, message, WsrmFaults.CreateSequenceRefused(message.Version, version,
                "The Offer's Endpoint must equal AcksTo."));
            return;
        }
        if (_sessionsById.TryGetValue(offerId, out var existing))
        {
            // The client resends CreateSequence (same Offer) when the response was slow: answer again, same session.
            existing.Forward(received);
            return;
        }
        if (_pending.Count >= _settings.MaxPendingChannels)
        {
            var endpoint = message.Headers.To?.ToString() ?? "";
            _log.Warning("Refused a reliable session at {0}: {1} sessions already wait to be accepted (max-pending-channels)",
                endpoint, _pending.Count);
            Refuse(received, message, WsrmFaults.ConnectionLimitReached(message.Version, version, endpoint));
            return;
        }

        var inputId = $"urn:uuid:{Guid.NewGuid()}";
        var session = Context.ActorOf(WsrmSessionActor.Props(inputId, offerId, version, _contract, _implementation,
            _serviceSettings, _settings), $"rm-{Guid.NewGuid():N}");
        Context.Watch(session);
        _sessionsById[inputId] = session;
        _sessionsById[offerId] = session;
        _ids[session] = (inputId, offerId);
        _pending.AddLast(session);
        _log.Info("Reliable session {0} established ({1}); {2} pending", inputId, version, _pending.Count);
        session.Forward(received);
        AcceptWhatFits();
    }

    private void AcceptWhatFits()
    {
        while (_pending.First is { } next && _accepted.Count < _settings.MaxConcurrentSessions)
        {
            _pending.RemoveFirst();
            _accepted.Add(next.Value);
            next.Value.Tell(Accepted.Instance);
        }
    }

    private void Forget(IActorRef session)
    {
        if (_ids.Remove(session, out var ids))
        {
            _sessionsById.Remove(ids.InputId);
            _sessionsById.Remove(ids.OfferId);
        }
        _pending.Remove(session);
        _accepted.Remove(session);
        AcceptWhatFits();
    }

    private static string? IdentifierOf(Message message, WsrmVersion version)
    {
        var headers = message.Headers;
        if (WsrmHeaders.ReadSequence(headers, version) is { } sequence) return sequence.Identifier;
        if (WsrmHeaders.ReadAcknowledgement(headers, version) is { } ack) return ack.Identifier;
        if (WsrmHeaders.ReadAckRequested(headers, version) is { } requested) return requested;
        if (message.IsEmpty) return null;
        try
        {
            // TerminateSequence, CloseSequence and their responses name the sequence in the body.
            return WsrmBodies.ReadSequenceReference(message.GetReaderAtBodyContents(), version).Identifier;
        }
        catch (XmlException)
        {
            return null;
        }
    }

    private void Refuse(RmReceived received, Message request, Message fault)
    {
        Reply(received, fault, request.Headers.MessageId);
    }

    private static void Reply(RmReceived received, Message reply, UniqueId? relatesTo)
    {
        using (reply)
        {
            if (relatesTo is not null) reply.Headers.RelatesTo = relatesTo;
            received.Connection.Tell(new SendSoap(reply.CreateBufferedCopy(int.MaxValue)));
        }
    }
}
