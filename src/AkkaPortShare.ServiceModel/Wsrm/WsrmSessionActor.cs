using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.ReliableSessions;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.ServiceModel.Dispatch;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;
using static AkkaPortShare.ServiceModel.Wsrm.WsrmProtocol;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>
/// One WCF reliable session: the WS-RM face of a <see cref="ReliableSessionActor"/>. Incoming SOAP becomes packets
/// for it; its packets become SOAP for whichever connection the client used last (a session outlives its
/// connection). Delivered messages are dispatched one at a time, in order, to the contract's implementation (the
/// client's answers to request/reply callbacks are taken meanwhile: see WsrmSessionActor.Delivery.cs), and replies
/// and callbacks go back on the service's own sequence (the client's offered one). When the client's last
/// message is in, the service closes its sequence too (LastMessage, then TerminateSequence), so the client's
/// Close() returns promptly.
/// </summary>
/// <remarks>
/// Behaviours follow the service's side of the session: <see cref="AwaitingAcceptance"/> (in the endpoint's
/// pending-channel queue) -> <see cref="Open"/> -> <see cref="ClosingOutput"/> (the client's sequence is complete;
/// the service's own waits for its acknowledgements) -> <see cref="EndingOutput"/> (1.1: CloseSequence and
/// TerminateSequence sent, their responses awaited) -> <see cref="OutputEnded"/> (the client's TerminateSequence is
/// what is left). The client's own termination may come at any point after its sequence is complete, so it is a
/// fact in the state, not a behaviour. The session is the implementation's one identity for this conversation:
/// SessionStarted when accepted, OperationInvoked with the same id, SessionEnded when it stops, across reconnects.
/// </remarks>
internal sealed partial class WsrmSessionActor : ReceiveActor, IWithUnboundedStash
{
    private sealed record ReplyReady(Message? Reply, bool Terminating = false) : INoSerializationVerificationNeeded;
    private sealed record AcknowledgeNow;
    private sealed record CloseAfterFault;

    // What a ReportAcknowledgement is for (its Purpose): the reported acknowledgement answers the client's request.
    private sealed record AnswerCloseSequence(UniqueId? RelatesTo);
    private sealed record AnswerTerminateSequence(UniqueId? RelatesTo);
    private sealed record CheckTerminateSequence;

    /// <summary>Where a behaviour stands; passed to the handlers that differ by it, never kept in a field.</summary>
    private enum Stage { AwaitingAcceptance, Open, ClosingOutput, EndingOutput, OutputEnded }

    /// <param name="Connection">The connection the client used last: everything for the client goes there.</param>
    /// <param name="Accepted">
    /// The implementation got SessionStarted (so it gets SessionEnded): PostStop cannot ask which behaviour was current.
    /// </param>
    /// <param name="LastInputAck">
    /// The latest acknowledgement of the client's sequence that went out (or was reported). Its Final flag is the
    /// session's word that the sequence is complete, which decides whether a TerminateSequence is early.
    /// </param>
    /// <param name="ClosedAt">1.1: the client's CloseSequence ended its sequence at this number.</param>
    /// <param name="ClosedAck">1.1: the final acknowledgement that answered it; a message outside it is SequenceClosed.</param>
    /// <param name="ReportsAwaited">ReportAcknowledgement asked and not answered: standalone acks are held meanwhile.</param>
    /// <param name="ClientTerminated">The client has terminated its sequence (and was answered).</param>
    /// <param name="EndedForService">An IsTerminating operation answered: the implementation got SessionEnded already.</param>
    /// <param name="Delivery">Where the delivery of the client's messages to the contract stands.</param>
    private sealed record State(IActorRef Connection, bool Accepted, string? EndpointAddress, long LastNumberSent,
        AckPacket? LastInputAck, long? ClosedAt, AckPacket? ClosedAck, int ReportsAwaited, bool ClientTerminated,
        DeliveryState Delivery, bool EndedForService = false);

    private static readonly TimeSpan CloseAfterFaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _inputId;
    private readonly string? _outputId; // null: an input-only session (the client offered no sequence)
    private readonly WsrmVersion _version;
    private readonly IActorRef _implementation;
    private readonly ReliableSessionSettings _settings;
    private readonly OperationDispatcher _dispatcher;
    private readonly Dispatch.SessionRules _rules;
    private readonly CallbackCalls _callbacks;
    private readonly EndpointMetrics _metrics;
    private readonly WsrmSessionMessages _messages;
    private IActorRef _core = ActorRefs.Nobody;
    private State _state = new(ActorRefs.Nobody, Accepted: false, EndpointAddress: null, LastNumberSent: 0, LastInputAck: null,
        ClosedAt: null, ClosedAck: null, ReportsAwaited: 0, ClientTerminated: false, Delivery: DeliveryState.Idle);

    public IStash Stash { get; set; } = null!;

    private readonly AkkaPortShare.ServiceModel.Dispatch.Caller? _caller; // the client's, from its CreateSequence's connection

    public static Props Props(string inputId, string? outputId, WsrmVersion version, ContractMap contract,
        IActorRef implementation, ServiceModelSettings serviceSettings, ReliableSessionSettings settings, EndpointMetrics metrics,
        AkkaPortShare.ServiceModel.Dispatch.Caller? caller = null) =>
        Akka.Actor.Props.Create(() => new WsrmSessionActor(inputId, outputId, version, contract, implementation,
            serviceSettings, settings, metrics, caller));

    public WsrmSessionActor(string inputId, string? outputId, WsrmVersion version, ContractMap contract,
        IActorRef implementation, ServiceModelSettings serviceSettings, ReliableSessionSettings settings, EndpointMetrics metrics,
        AkkaPortShare.ServiceModel.Dispatch.Caller? caller)
    {
        _caller = caller;
        var messageVersion = MessageVersion.Soap12WSAddressing10;
        _metrics = metrics;
        _inputId = inputId;
        _outputId = outputId;
        _version = version;
        _implementation = implementation;
        _settings = settings;
        _dispatcher = new OperationDispatcher(contract, implementation, serviceSettings, messageVersion, inputId, _log, metrics, caller);
        _callbacks = new CallbackCalls(contract, messageVersion);
        _rules = new Dispatch.SessionRules(contract, messageVersion);
        _messages = new WsrmSessionMessages(version, messageVersion, inputId, outputId, settings.MaxMessageNumber);
        AwaitingAcceptance();
    }

    // The sequence's windows are this session's state: a crashed one cannot be restarted into the same conversation,
    // so it stops, and the watch in PreStart ends the session (Terminated below).
    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    // No watch on the connection: a session outlives its connections (the client reconnects and goes on), and ends by
    // its own protocol or by the sequence's inactivity timeout.
    protected override void PreStart()
    {
        // An input-only session sends nothing of its own: its sequence's outgoing side is named but never used.
        _core = Context.ActorOf(ReliableSessionActor.Props(_settings, _outputId ?? $"{_inputId}#no-output", _inputId, Self, Self,
            dropped: _metrics.ReliableMessageDropped), "sequence");
        Context.Watch(_core);
    }

    protected override void PostStop()
    {
        _callbacks.FailAll(_inputId);
        foreach (var held in _state.Delivery.Held) held.Close();
        if (_state.Accepted && !_state.EndedForService) _implementation.Tell(new SessionEnded(_inputId));
    }

    // ---------------------------------------------------------------- behaviours

    /// <summary>In the endpoint's pending-channel queue: the client's messages are taken and acknowledged, none delivered.</summary>
    private void AwaitingAcceptance()
    {
        Common(Stage.AwaitingAcceptance);
        Receive<Accepted>(_ =>
        {
            _state = _state with { Accepted = true };
            _implementation.Tell(new SessionStarted(_inputId, Self) { ClientCertificate = _caller?.Certificate, ClientIdentity = _caller?.Identity });
            AskWhenDue();
            Stash.UnstashAll();
            Become(Open);
        });
        // WCF's service closes only a channel it has accepted, so the service's sequence ends after acceptance. The
        // session reports InputCompleted once: the stash holds one message at most.
        Receive<InputCompleted>(_ => Stash.Stash());
    }

    private void Open()
    {
        Common(Stage.Open);
        Serving();
        Receive<InputCompleted>(_ => OnInputCompleted());
    }

    /// <summary>
    /// The client's sequence is done, so is the service once its calls are answered: it ends its own sequence too, or
    /// the client's Close() waits. A call still in progress (or held) may yet reply or call back on that sequence.
    /// </summary>
    private void OnInputCompleted()
    {
        if (_state.Delivery.InFlight > 0 || !_state.Delivery.Held.IsEmpty)
        {
            _state = _state with { Delivery = _state.Delivery with { InputCompleted = true } };
            return;
        }
        if (_outputId is null)
        {
            OnOutputEnded(); // nothing of the service's own to end
            return;
        }
        _core.Tell(new CloseOutput(EndMarker: !_version.Is11));
        Become(ClosingOutput);
    }

    private void ClosingOutput()
    {
        Common(Stage.ClosingOutput);
        Serving();
        Receive<OutputClosed>(closed =>
        {
            _state = _state with { LastNumberSent = closed.LastNumber };
            if (_version.Is11)
            {
                // 1.1: CloseSequence, then (on its response) TerminateSequence; the client answers each.
                EndOutput("CloseSequence", _version.CloseSequenceAction);
                Become(EndingOutput);
                return;
            }
            EndOutput("TerminateSequence", _version.TerminateSequenceAction);
            OnOutputEnded();
        });
    }

    private void EndingOutput()
    {
        Common(Stage.EndingOutput);
        Serving();
    }

    private void OutputEnded()
    {
        Common(Stage.OutputEnded);
        Serving();
    }

    /// <summary>What every behaviour handles: the client's messages, the sequence's packets, reports and failures.</summary>
    private void Common(Stage stage)
    {
        Receive<RmReceived>(received =>
        {
            try
            {
                OnReceived(received, stage);
            }
            finally
            {
                // Taken into the session (whose windows bound it from here): the connection may read on.
                received.Connection.Tell(RmHandled.Instance);
            }
        });
        Receive<Outbound>(OnOutbound);
        Receive<AcknowledgementReport>(report => OnReport(report, stage));
        Receive<AcknowledgeNow>(_ => _core.Tell(new Inbound(new AckRequestPacket(_inputId), Self)));
        Receive<SessionFaulted>(f =>
        {
            _metrics.ReliableSessionFaulted(f.Kind == FaultKind.LastMessageNumberExceeded && _version.Is11
                ? "SequenceClosed"
                : f.Kind.ToString());
            SendToClient(_messages.FaultFor(f, _state.ClosedAck ?? _state.LastInputAck));
            Context.Stop(Self);
        });
        // The sequence reports a fault before it stops (SessionFaulted comes first, and stops this actor): stopping
        // without one is a crash, and the client is told the session is over.
        Receive<Terminated>(t => t.ActorRef.Equals(_core), _ =>
        {
            _log.Error("Reliable session {0}: its sequence stopped unexpectedly: SequenceTerminated", _inputId);
            _metrics.ReliableSessionFaulted("SequenceTerminated");
            SendToClient(_messages.ServiceError("The reliable session failed on the service's side."));
            Context.Stop(Self);
        });
    }

    /// <summary>Once accepted: the contract's calls, their replies, and the implementation's callbacks.</summary>
    private void Serving()
    {
        Receive<Deliver>(OnDeliver);
        Receive<ReplyReady>(OnReplyReady);
        Receive<CloseAfterFault>(_ =>
        {
            _log.Info("Reliable session {0}: ended after an internal-error fault, as WCF ends a session after an unhandled exception", _inputId);
            Context.Stop(Self);
        });
        // A one-way call threw (not a FaultException): WCF aborts the session channel, and its client learns of it
        // only when it next hears from the service (UnknownSequence), its calls in flight waiting out their timeouts.
        // Here the client is told at once (SequenceTerminated), so those calls fail now with a CommunicationException.
        Receive<Instancing.AbortSession>(a =>
        {
            _log.Info("Reliable session {0}: aborted ({1})", _inputId, a.Reason);
            Self.Tell(new SessionFaulted(FaultKind.SequenceTerminated, $"The service aborted the session: {a.Reason}.", _inputId));
        });
        Receive<InvokeCallback>(callback =>
        {
            if (_outputId is null)
            {
                Sender.Tell(new Status.Failure(new InvalidOperationException(
                    $"Reliable session {_inputId} has no callback channel: the client offered no sequence.")));
                return;
            }
            if (_callbacks.CreateRequest(callback, Sender) is not { } request) return;
            SendReliably(request);
            AskWhenDue(); // a call waiting on this callback: its answer must get past the calls behind it
        });
    }

    /// <summary>A call is answered (a reply to send, or none for a one-way call or a failure): the next one may go.</summary>
    private void OnReplyReady(ReplyReady r)
    {
        if (r.Reply is not null && _outputId is null)
        {
            // Only a client that broke its own contract asks for a reply it offered no sequence for.
            _log.Warning("Reliable session {0} is input only (no Offer): a reply to {1} is dropped", _inputId, r.Reply.Headers.Action);
            r.Reply.Close();
        }
        else if (r.Reply is not null)
        {
            var reply = r.Reply;
            // WCF closes the session after an internal-error fault (the client faults and aborts its own side),
            // and aborts it if that close has not finished within CloseAfterFaultTimeout (10 s, WCF's constant).
            if (AkkaPortShare.ServiceModel.Dispatch.SessionRules.IsUnhandled(ref reply))
                Context.System.Scheduler.ScheduleTellOnce(CloseAfterFaultTimeout, Self, new CloseAfterFault(), Self);
            SendReliably(reply);
        }
        OnCallDone();
        // WCF's session rules (Dispatch.SessionRules): the service is done with the session once its terminating
        // operation has answered; the client then closes the reliable session.
        if (r.Terminating && !_state.EndedForService)
        {
            _state = _state with { EndedForService = true };
            _callbacks.FailAll(_inputId);
            _implementation.Tell(new SessionEnded(_inputId));
        }
    }

    // ---------------------------------------------------------------- the client's messages

    private void OnReceived(RmReceived received, Stage stage)
    {
        var reconnected = !_state.Connection.IsNobody() && !_state.Connection.Equals(received.Connection);
        _state = _state with { Connection = received.Connection };
        var message = received.Message.CreateMessage();
        try
        {
            if (!OnReceived(received, message, stage, reconnected)) message.Close();
        }
        catch
        {
            message.Close();
            throw;
        }
        // Resend at once what went out on the old connection and is not acknowledged (after this message's own
        // acknowledgement reached the core): transmissions into a dead connection doubled the retry timeout each
        // time, so after a few quick breaks the next retry of a reply the client waits for could come after the
        // client's OperationTimeout (found in RouterClusterSpec: a call timed out 60 s after its connection was cut,
        // the new connection idle all along).
        if (reconnected) _core.Tell(PeerReconnected.Instance);
    }

    /// <returns>True when <paramref name="message"/> went to the sequence as a payload (unread, to be dispatched); else it is closed by the caller.</returns>
    private bool OnReceived(RmReceived received, Message message, Stage stage, bool reconnected)
    {
        if (reconnected)
        {
            _log.Debug("Reliable session {0} continues on a new connection ({1})", _inputId, received.Connection.Path.Name);
            // Acknowledge at once rather than after the interval: the client learns what got through before the
            // break and resends only the rest, and its framing decoder gets past the state in which an early end
            // of this connection (Linux may report a reset that way) would fault the whole session.
            Self.Tell(new AcknowledgeNow());
        }
        var action = message.Headers.Action;
        if (action == _version.CreateSequenceAction)
        {
            _state = _state with { EndpointAddress = message.Headers.To?.ToString() };
            SendToClient(_messages.CreateSequenceResponse(message, _settings.Ordered));
            return false;
        }
        if (action == _version.TerminateSequenceAction)
        {
            OnTerminateSequence(message, stage);
            return false;
        }
        if (action == _version.CloseSequenceAction)
        {
            var (id, last) = WsrmBodies.ReadSequenceReference(message.GetReaderAtBodyContents(), _version);
            if (id != _inputId) return false;
            _state = _state with { ClosedAt = _state.ClosedAt ?? last ?? 0 };
            _core.Tell(new Inbound(new EndOfSequencePacket(_inputId, last ?? 0), Self));
            ReportAcknowledgement(new AnswerCloseSequence(message.Headers.MessageId));
            return false;
        }
        if (action == _version.CloseSequenceResponseAction)
        {
            foreach (var packet in WsrmPackets.Read(message, _version)) _core.Tell(new Inbound(packet, Self));
            if (stage == Stage.EndingOutput) EndOutput("TerminateSequence", _version.TerminateSequenceAction);
            return false;
        }
        if (action == _version.TerminateSequenceResponseAction)
        {
            if (stage == Stage.EndingOutput) OnOutputEnded();
            return false;
        }
        var sequenceHeader = WsrmHeaders.ReadSequence(message.Headers, _version);
        if (sequenceHeader is { NumberOverflow: true } overflow)
        {
            _log.Warning("Reliable session {0}: a message number beyond Int64 on sequence {1}: MessageNumberRollover", _inputId, overflow.Identifier);
            Self.Tell(new SessionFaulted(FaultKind.MessageNumberRollover, "The message number is beyond Int64.MaxValue.", overflow.Identifier));
            return false;
        }
        // The message is the payload itself: only this actor reads it (the sequence holds it unread), once, when it
        // is delivered; its headers read here stay readable then.
        var packets = WsrmPackets.Read(message, _version, sequenceHeader, asPayload: true);
        if (packets.FirstOrDefault() is SequencePacket sequence && IsAfterClose(sequence))
        {
            RefuseAfterClose(sequence);
            // Dropped, as WCF drops it; an acknowledgement of the service's sequence it carried still counts.
            if (sequence.Ack is { } carried) packets[0] = carried;
            else packets.RemoveAt(0);
        }
        foreach (var packet in packets) _core.Tell(new Inbound(packet, Self));
        return packets.Any(p => p is SequencePacket { Payload: var payload } && ReferenceEquals(payload, message));
    }

    private void OnOutbound(Outbound outbound)
    {
        if (outbound.Packet switch { AckPacket a => a, SequencePacket s => s.Ack, _ => null } is { } inputAck && inputAck.SequenceId == _inputId)
        {
            _state = _state with { LastInputAck = inputAck };
            // A report is on its way to answer a CloseSequence or TerminateSequence: the answer carries the latest
            // acknowledgement (1.1) or nothing (February 2005), so a standalone one meanwhile is not sent on its own.
            if (outbound.Packet is AckPacket && _state.ReportsAwaited > 0) return;
        }
        using var message = WsrmPackets.Write(outbound.Packet, _version, MessageVersion.Soap12WSAddressing10);
        SendToClient(message);
    }

    private void SendReliably(Message message)
    {
        using (message) _core.Tell(new Send(message.CreateBufferedCopy(int.MaxValue)));
    }

    private void SendToClient(Message message)
    {
        using (message) _state.Connection.Tell(new SendSoap(message.CreateBufferedCopy(int.MaxValue)));
    }
}
