using System.Collections.Immutable;
using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.ReliableSessions;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.Worker.Sessions;
using static AkkaPortShare.ServiceModel.Wsrm.WsrmProtocol;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>
/// The reliable-session listener of one endpoint. It answers CreateSequence (idempotently: a resent request with a
/// known Offer maps back to its session), keeps every session under both its sequence identifiers, and holds
/// established sessions in the pending-channel queue until the service takes them (at most
/// max-concurrent-sessions at once). When max-pending-channels sessions are already waiting, a new one is refused
/// with CreateSequenceRefused / ConnectionLimitReached, which the WCF client reports as ServerTooBusyException.
/// A message of a WS-RM version the endpoint does not accept is answered as WCF's listener answers it, and once the
/// service shuts down (CoordinatedShutdown's service-unbind phase) new sessions get EndpointUnavailable while
/// existing ones go on, and the shutdown waits for them (service-requests-done, up to shutdown-drain-timeout). Like WCF's listener, which closes a connection not yet bound to a session after each such
/// answer, a connection that carries no live session is closed after a refusal or an UnknownSequence fault. A session
/// that closed a moment ago is not unknown: a client that asks about it again gets its last word again
/// (<see cref="FinishedSessions"/>).
/// </summary>
internal sealed class WsrmEndpointActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ContractMap _contract;
    private readonly IActorRef _implementation;
    private readonly ServiceModelSettings _serviceSettings;
    private readonly WsrmEndpointSettings _endpointSettings;
    private readonly EndpointMetrics _metrics;
    private readonly SessionRouting _routing = SessionRouting.For(Context.System);
    private readonly FinishedSessions _finished = new();
    private readonly ITimeProvider _time = Context.System.Scheduler;

    /// <param name="SessionsById">Every live session under both its identifiers (the service's and the client's offer).</param>
    /// <param name="Ids">A live session's two identifiers, to forget it by.</param>
    /// <param name="SessionsByConnection">
    /// Connections that have carried a message of a live session; only the others are closed after a refusal.
    /// </param>
    /// <param name="Channels">The pending-channel queue and the sessions the service has taken.</param>
    private sealed record State(ImmutableDictionary<string, IActorRef> SessionsById,
        ImmutableDictionary<IActorRef, (string InputId, string? OfferId)> Ids,
        ImmutableDictionary<IActorRef, ImmutableHashSet<IActorRef>> SessionsByConnection,
        PendingChannelQueue<IActorRef> Channels);

    private State _state;
    // Completed once the endpoint no longer accepts and no session is left (or it stopped): the shutdown waits on it.
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static Props Props(ContractMap contract, IActorRef implementation, ServiceModelSettings serviceSettings,
        WsrmEndpointSettings endpointSettings, EndpointMetrics metrics) =>
        Akka.Actor.Props.Create(() => new WsrmEndpointActor(contract, implementation, serviceSettings, endpointSettings, metrics));

    public WsrmEndpointActor(ContractMap contract, IActorRef implementation, ServiceModelSettings serviceSettings,
        WsrmEndpointSettings endpointSettings, EndpointMetrics metrics)
    {
        _metrics = metrics;
        _contract = contract;
        _implementation = implementation;
        _serviceSettings = serviceSettings;
        _endpointSettings = endpointSettings;
        _state = new State(ImmutableDictionary.Create<string, IActorRef>(StringComparer.Ordinal),
            ImmutableDictionary<IActorRef, (string, string)>.Empty, ImmutableDictionary<IActorRef, ImmutableHashSet<IActorRef>>.Empty,
            new PendingChannelQueue<IActorRef>(endpointSettings.MaxPendingChannels, endpointSettings.MaxConcurrentSessions));
        Accepting();
    }

    /// <summary>New sessions are established (up to the pending-channel queue), and existing ones served.</summary>
    private void Accepting()
    {
        Receive<RmReceived>(received => OnReceived(received, accepting: true));
        Receive<SessionFinished>(finished => _finished.Add(finished, _time.Now));
        Receive<StopAccepting>(_ =>
        {
            _log.Info("Reliable endpoint stops accepting sessions ({0} live; the shutdown waits up to {1} for them)",
                _state.Ids.Count, _endpointSettings.ShutdownDrainTimeout);
            Become(Draining);
            CompleteDrainWhenEmpty();
        });
        Receive<Terminated>(t => Forget(t.ActorRef));
    }

    /// <summary>The service is shutting down: new sessions get EndpointUnavailable, live ones go on until they end.</summary>
    private void Draining()
    {
        Receive<RmReceived>(received => OnReceived(received, accepting: false));
        Receive<SessionFinished>(finished => _finished.Add(finished, _time.Now));
        Receive<StopAccepting>(_ => { });
        Receive<Terminated>(t =>
        {
            Forget(t.ActorRef);
            CompleteDrainWhenEmpty();
        });
    }

    protected override void PostStop()
    {
        _drained.TrySetResult();
        _metrics.SessionsEnded(reliable: true, _state.Ids.Count); // its sessions are its children: they end with it
    }

    private void CompleteDrainWhenEmpty()
    {
        if (_state.Ids.Count > 0 || _drained.Task.IsCompleted) return;
        _log.Info("Reliable endpoint: every session has ended");
        _drained.TrySetResult();
    }

    protected override void PreStart()
    {
        // The service is going away: refuse new sessions (EndpointUnavailable) before anything else stops. Fire and
        // forget, so an endpoint already stopped cannot hold up the shutdown.
        var self = Self;
        var shutdown = CoordinatedShutdown.Get(Context.System);
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceUnbind, $"reliable-endpoint-{Guid.NewGuid():N}", () =>
        {
            self.Tell(StopAccepting.Instance);
            return Task.FromResult(Akka.Done.Instance);
        });
        // Then wait, as a service host closing does, for established sessions to end: a client in the middle of its
        // work finishes it and closes normally. Bounded: a session whose client went quiet ends with the worker.
        var drained = _drained.Task;
        var timeout = _endpointSettings.ShutdownDrainTimeout;
        var log = _log;
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, $"reliable-endpoint-drain-{Guid.NewGuid():N}", async () =>
        {
            if (await Task.WhenAny(drained, Task.Delay(timeout)) != drained)
                log.Warning("Reliable endpoint: sessions still live after shutdown-drain-timeout {0}; they end with the worker", timeout);
            return Akka.Done.Instance;
        });
    }

    // A session is a conversation with one client, its state the sequence numbers both sides have seen: a restarted
    // one would answer the client from nothing. So when it fails it ends (the watch forgets it, and the client's next
    // message gets UnknownSequence); it is not restarted.
    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    private void OnReceived(RmReceived received, bool accepting)
    {
        var version = received.Version;
        // Nearly every message belongs to a live session whose identifier the connection read already.
        if (received.SequenceId is { } sequenceId && _endpointSettings.Accepts(version)
            && _state.SessionsById.TryGetValue(sequenceId, out var live))
        {
            ForwardToSession(received, live);
            return;
        }
        using var message = received.Message.CreateMessage();
        if (!_endpointSettings.Accepts(version))
        {
            RefuseVersion(received, message);
            return;
        }
        if (message.Headers.Action == version.CreateSequenceAction)
        {
            OnCreateSequence(received, message, accepting);
            return;
        }
        var id = IdentifierOf(message, version);
        if (id is not null && _state.SessionsById.TryGetValue(id, out var session))
        {
            ForwardToSession(received, session);
            return;
        }
        if (id is not null && _finished.TryGet(id, _time.Now, out var finished))
        {
            RepeatLastWord(received, message, finished);
            return;
        }
        if (received.Movable && NeedsNoAnswer(message, version))
        {
            // A reconnected client may first acknowledge (or answer) the service's own sequence, whose identifier is
            // the client's and names no worker. Nothing is owed: the connection stays as it is, and the client's
            // next message names its session (these bytes go along if the connection moves).
            _log.Debug("Reliable {0} for unknown sequence {1} on a new connection: nothing to answer", message.Headers.Action, id ?? "(none)");
            received.Connection.Tell(RmHandled.Instance);
            return;
        }
        if (received.Movable && id is not null && _routing.HeldElsewhere(id, out var holder))
        {
            _log.Info("Reliable message for sequence {0}, held by another worker of this address ({1}): the connection goes there", id, holder);
            received.Connection.Tell(new MoveSession(holder));
            return;
        }
        _log.Info("Reliable message for unknown sequence {0}: UnknownSequence", id ?? "(none)");
        Refuse(received, message, WsrmFaults.UnknownSequence(message.Version, version, id ?? ""));
    }

    /// <summary>
    /// WCF's service binding speaks one WS-RM version, and its listener answers the other as an unknown action:
    /// a February 2005 listener with WS-Addressing's ActionNotSupported, a 1.1 listener with WsrmRequired.
    /// </summary>
    private void RefuseVersion(RmReceived received, Message message)
    {
        var accepted = _endpointSettings.AcceptedVersion!;
        var reason = $"This endpoint accepts only {accepted}; the client speaks {received.Version}.";
        _log.Warning("Refused a {0} message ({1}) at {2}: the endpoint accepts only {3} (reliable-messaging-version)",
            received.Version, message.Headers.Action, message.Headers.To, accepted);
        Refuse(received, message, accepted.Is11
            ? WsrmFaults.WsrmRequired(message.Version, reason)
            : WsrmFaults.ActionNotSupported(message.Version, message.Headers.Action, reason));
    }

    private void OnCreateSequence(RmReceived received, Message message, bool accepting)
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

        // No Offer: the client has nothing to receive (a contract whose operations are all one-way, WCF's
        // IOutputSessionChannel), so the session is input only, as WCF's listener makes it.
        var offerId = request.OfferIdentifier;
        if (version.Is11 && offerId is not null && request.OfferEndpoint != request.AcksTo)
        {
            Refuse(received, message, WsrmFaults.CreateSequenceRefused(message.Version, version,
                "The Offer's Endpoint must equal AcksTo."));
            return;
        }
        if (offerId is not null && _state.SessionsById.TryGetValue(offerId, out var existing))
        {
            // The client resends CreateSequence (same Offer) when the response was slow: answer again, same session.
            ForwardToSession(received, existing);
            return;
        }
        if (!accepting)
        {
            _log.Info("Refused a reliable session at {0}: the service is shutting down (EndpointUnavailable)", message.Headers.To);
            Refuse(received, message, WsrmFaults.EndpointUnavailable(message.Version,
                $"The endpoint at '{message.Headers.To}' is shutting down and accepts no new reliable sessions."));
            return;
        }
        if (_state.Channels.IsFull)
        {
            var endpoint = message.Headers.To?.ToString() ?? "";
            _log.Warning("Refused a reliable session at {0}: {1} sessions already wait to be accepted (max-pending-channels)",
                endpoint, _state.Channels.PendingCount);
            Refuse(received, message, WsrmFaults.ConnectionLimitReached(message.Version, version, endpoint));
            return;
        }

        // The identifier names this worker, so that a reconnection to another worker of the address finds it.
        var inputId = _routing.NewSequenceId();
        var session = Context.ActorOf(WsrmSessionActor.Props(inputId, offerId, version, _contract, _implementation,
            _serviceSettings, _endpointSettings.Session, _metrics, received.Caller), $"rm-{Guid.NewGuid():N}");
        Context.Watch(session);
        _metrics.SessionStarted(reliable: true);
        _state = _state with
        {
            SessionsById = offerId is null
                ? _state.SessionsById.SetItem(inputId, session)
                : _state.SessionsById.SetItem(inputId, session).SetItem(offerId, session),
            Ids = _state.Ids.SetItem(session, (inputId, offerId)),
            Channels = _state.Channels.Add(session, out _),
        };
        _log.Info("Reliable session {0} established ({1}); {2} pending", inputId, version, _state.Channels.PendingCount);
        ForwardToSession(received, session);
        AcceptWhatFits();
    }

    private void AcceptWhatFits()
    {
        _state = _state with { Channels = _state.Channels.AcceptWhatFits(out var accepted) };
        foreach (var session in accepted) session.Tell(Accepted.Instance);
    }

    private void ForwardToSession(RmReceived received, IActorRef session)
    {
        if (_state.SessionsByConnection.TryGetValue(received.Connection, out var sessions) && sessions.Contains(session))
        {
            // Known already (every message after a session's first on this connection): no new state to build.
            session.Forward(received);
            return;
        }
        if (sessions is null)
        {
            sessions = [];
            Context.Watch(received.Connection);
        }
        _state = _state with { SessionsByConnection = _state.SessionsByConnection.SetItem(received.Connection, sessions.Add(session)) };
        session.Forward(received);
    }

    private void Forget(IActorRef actor)
    {
        if (_state.SessionsByConnection.ContainsKey(actor))
        {
            _state = _state with { SessionsByConnection = _state.SessionsByConnection.Remove(actor) }; // a connection ended
            return;
        }
        var session = actor;
        _state = _state with
        {
            SessionsByConnection = _state.SessionsByConnection.ToImmutableDictionary(c => c.Key, c => c.Value.Remove(session)),
            Channels = _state.Channels.Remove(session),
        };
        if (_state.Ids.TryGetValue(session, out var ids))
        {
            _metrics.SessionsEnded(reliable: true);
            _state = _state with
            {
                Ids = _state.Ids.Remove(session),
                SessionsById = ids.OfferId is null ? _state.SessionsById.Remove(ids.InputId)
                    : _state.SessionsById.Remove(ids.InputId).Remove(ids.OfferId),
            };
        }
        AcceptWhatFits();
    }

    /// <summary>
    /// A message for a session that closed normally a moment ago (see <see cref="FinishedSessions"/>): the client did
    /// not hear the session's last word, so it gets it again: the final acknowledgement of its sequence, and February
    /// 2005's TerminateSequence of the service's (1.1: the TerminateSequenceResponse it asks for again).
    /// </summary>
    private void RepeatLastWord(RmReceived received, Message message, SessionFinished finished)
    {
        var version = finished.Version;
        var messageVersion = MessageVersion.Soap12WSAddressing10;
        var messages = new WsrmSessionMessages(version, messageVersion, finished.InputId, finished.OutputId, long.MaxValue);
        var ack = finished.FinalAck ?? new ReliableSessions.ReliableSessionProtocol.AckPacket(finished.InputId, [], null, Final: true);
        _log.Info("Reliable {0} for session {1}, which has closed: its final acknowledgement{2} again", message.Headers.Action,
            finished.InputId, version.Is11 ? "" : " and TerminateSequence");
        if (version.Is11 && message.Headers.Action == version.TerminateSequenceAction)
            Reply(received, messages.WithFinalAck("TerminateSequenceResponse", version.TerminateSequenceResponseAction, ack, message.Headers.MessageId), null);
        else
        {
            Reply(received, WsrmPackets.Write(ack, version, messageVersion), null);
            if (!version.Is11 && finished.OutputId is not null)
                Reply(received, messages.EndOutput("TerminateSequence", version.TerminateSequenceAction, finished.LastNumberSent, finished.EndpointAddress), null);
        }
        received.Connection.Tell(RmHandled.Instance);
    }

    // Messages that answer or acknowledge the service's own sequence: the client expects no reply to them.
    private static bool NeedsNoAnswer(Message message, WsrmVersion version) =>
        message.Headers.Action == version.SequenceAcknowledgementAction
        || message.Headers.Action == version.TerminateSequenceResponseAction
        || message.Headers.Action == version.CloseSequenceResponseAction;

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

    /// <summary>Answers with a fault, then closes the connection unless a live session uses it (WCF's listener closes it).</summary>
    private void Refuse(RmReceived received, Message request, Message fault)
    {
        Reply(received, fault, request.Headers.MessageId);
        received.Connection.Tell(RmHandled.Instance);
        if (_state.SessionsByConnection.TryGetValue(received.Connection, out var sessions) && sessions.Count > 0) return;
        received.Connection.Tell(CloseConnection.Instance);
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
