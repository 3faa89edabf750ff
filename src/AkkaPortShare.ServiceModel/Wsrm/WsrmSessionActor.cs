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
/// connection). Delivered messages are dispatched one at a time, in order, to the contract's implementation, and
/// replies and callbacks go back on the service's own sequence (the client's offered one). When the client's last
/// message is in, the service closes its sequence too (LastMessage, then TerminateSequence), so the client's
/// Close() returns promptly.
/// </summary>
internal sealed class WsrmSessionActor : ReceiveActor
{
    private sealed record ReplyReady(Message? Reply) : INoSerializationVerificationNeeded;
    private sealed record AcknowledgeNow;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _inputId;
    private readonly string _outputId;
    private readonly WsrmVersion _version;
    private readonly ContractMap _contract;
    private readonly ReliableSessionSettings _settings;
    private readonly OperationDispatcher _dispatcher;
    private readonly CallbackCalls _callbacks;
    private readonly EndpointMetrics _metrics;
    private readonly MessageVersion _messageVersion = MessageVersion.Soap12WSAddressing10;
    private IActorRef _core = ActorRefs.Nobody;
    private IActorRef _connection = ActorRefs.Nobody;
    private bool _outputClosed;
    private bool _clientTerminated;
    // What to do once the session has caught up with everything told to it so far (see AfterSessionCatchesUp).
    private readonly Queue<Action> _afterCatchUp = new();
    private string? _endpointAddress;
    private long _lastNumberSent;
    // The latest acknowledgement of the client's sequence that went out. Its Final flag is the session's word that the
    // sequence is complete (the last number known, nothing missing), which decides whether a TerminateSequence is early.
    private AckPacket? _lastInputAck;
    // 1.1: the client's CloseSequence ended its sequence at this number, and the final acknowledgement that answered
    // it; from then on a message outside that acknowledgement is refused with SequenceClosed.
    private long? _closedAt;
    private AckPacket? _closedAck;

    public static Props Props(string inputId, string outputId, WsrmVersion version, ContractMap contract,
        IActorRef implementation, ServiceModelSettings serviceSettings, ReliableSessionSettings settings, EndpointMetrics metrics) =>
        Akka.Actor.Props.Create(() => new WsrmSessionActor(inputId, outputId, version, contract, implementation,
            serviceSettings, settings, metrics));

    public WsrmSessionActor(string inputId, string outputId, WsrmVersion version, ContractMap contract,
        IActorRef implementation, ServiceModelSettings serviceSettings, ReliableSessionSettings settings, EndpointMetrics metrics)
    {
        _metrics = metrics;
        _inputId = inputId;
        _outputId = outputId;
        _version = version;
        _contract = contract;
        _settings = settings;
        _dispatcher = new OperationDispatcher(contract, implementation, serviceSettings, _messageVersion, inputId, _log, metrics);
        _callbacks = new CallbackCalls(contract, _messageVersion);

        Receive<RmReceived>(received =>
        {
            try
            {
                OnReceived(received);
            }
            finally
            {
                // Taken into the session (whose windows bound it from here): the connection may read on.
                received.Connection.Tell(RmHandled.Instance);
            }
        });
        Receive<Outbound>(OnOutbound);
        Receive<Accepted>(_ => _core.Tell(RequestNext.Instance));
        Receive<Deliver>(OnDeliver);
        Receive<ReplyReady>(r =>
        {
            if (r.Reply is not null) SendReliably(r.Reply);
            _core.Tell(RequestNext.Instance);
        });
        Receive<InvokeCallback>(OnInvokeCallback);
        Receive<ActorIdentity>(_ =>
        {
            if (_afterCatchUp.TryDequeue(out var then)) then();
        });
        Receive<AcknowledgeNow>(_ => _core.Tell(new Inbound(new AckRequestPacket(_inputId), Self)));
        // The client's sequence is done, so is the service: end its own sequence too, or the client's Close() waits.
        Receive<InputCompleted>(_ => _core.Tell(new CloseOutput(EndMarker: !_version.Is11)));
        Receive<OutputClosed>(closed =>
        {
            _lastNumberSent = closed.LastNumber;
            if (_version.Is11)
            {
                // 1.1: CloseSequence, then (on its response) TerminateSequence; the client answers each.
                SendRequest("CloseSequence", _version.CloseSequenceAction);
                return;
            }
            SendRequest("TerminateSequence", _version.TerminateSequenceAction);
            _outputClosed = true;
            FinishIfDone();
        });
        Receive<SessionFaulted>(f =>
        {
            _metrics.ReliableSessionFaulted(f.Kind == FaultKind.LastMessageNumberExceeded && _version.Is11
                ? "SequenceClosed"
                : f.Kind.ToString());
            SendToClient(FaultFor(f));
            Context.Stop(Self);
        });
    }

    /// <summary>The WS-RM fault for a failed session, as WCF names each case.</summary>
    private Message FaultFor(SessionFaulted f) => f.Kind switch
    {
        FaultKind.InvalidAcknowledgement => WsrmFaults.InvalidAcknowledgement(_messageVersion, _version, f.SequenceId, f.Ranges ?? [], f.Reason),
        FaultKind.LastMessageNumberExceeded when _version.Is11 => SequenceClosed(f.Reason),
        FaultKind.LastMessageNumberExceeded => WsrmFaults.LastMessageNumberExceeded(_messageVersion, _version, f.SequenceId, f.Reason),
        FaultKind.MessageNumberRollover => WsrmFaults.MessageNumberRollover(_messageVersion, _version, f.SequenceId, _settings.MaxMessageNumber),
        _ => WsrmFaults.SequenceTerminated(_messageVersion, _version, f.SequenceId, f.Reason, senderFault: false),
    };

    protected override void PreStart() =>
        _core = Context.ActorOf(ReliableSessionActor.Props(_settings, _outputId, _inputId, Self, Self,
            dropped: _metrics.ReliableMessageDropped), "sequence");

    private void OnReceived(RmReceived received)
    {
        var reconnected = !_connection.IsNobody() && !_connection.Equals(received.Connection);
        _connection = received.Connection;
        using var message = received.Message.CreateMessage();
        if (reconnected)
        {
            _log.Debug("Reliable session {0} continues on a new connection", _inputId);
            // Acknowledge at once rather than after the interval: the client learns what got through before the
            // break and resends only the rest, and its framing decoder gets past the state in which an early end
            // of this connection (Linux may report a reset that way) would fault the whole session.
            Self.Tell(new AcknowledgeNow());
        }
        var action = message.Headers.Action;
        if (action == _version.CreateSequenceAction)
        {
            RespondToCreateSequence(message);
            return;
        }
        if (action == _version.TerminateSequenceAction)
        {
            OnTerminateSequence(message);
            return;
        }
        if (action == _version.CloseSequenceAction)
        {
            var (id, last) = WsrmBodies.ReadSequenceReference(message.GetReaderAtBodyContents(), _version);
            if (id != _inputId) return;
            _closedAt ??= last ?? 0;
            var relatesTo = message.Headers.MessageId;
            _core.Tell(new Inbound(new EndOfSequencePacket(_inputId, last ?? 0), Self));
            AfterSessionCatchesUp(() =>
            {
                _closedAck = _lastInputAck;
                RespondWithFinalAck("CloseSequenceResponse", _version.CloseSequenceResponseAction, relatesTo);
            });
            return;
        }
        if (action == _version.CloseSequenceResponseAction)
        {
            foreach (var packet in WsrmPackets.Read(message, _version)) _core.Tell(new Inbound(packet, Self));
            SendRequest("TerminateSequence", _version.TerminateSequenceAction);
            return;
        }
        if (action == _version.TerminateSequenceResponseAction)
        {
            _outputClosed = true;
            FinishIfDone();
            return;
        }
        if (WsrmHeaders.ReadSequence(message.Headers, _version) is { NumberOverflow: true } overflow)
        {
            _log.Warning("Reliable session {0}: a message number beyond Int64 on sequence {1}: MessageNumberRollover", _inputId, overflow.Identifier);
            Self.Tell(new SessionFaulted(FaultKind.MessageNumberRollover, "The message number is beyond Int64.MaxValue.", overflow.Identifier));
            return;
        }
        var packets = WsrmPackets.Read(message, _version);
        if (packets.FirstOrDefault() is SequencePacket sequence && IsAfterClose(sequence))
        {
            RefuseAfterClose(sequence);
            // Dropped, as WCF drops it; an acknowledgement of the service's sequence it carried still counts.
            if (sequence.Ack is { } carried) packets[0] = carried;
            else packets.RemoveAt(0);
        }
        foreach (var packet in packets) _core.Tell(new Inbound(packet, Self));
    }

    /// <summary>
    /// 1.1: after CloseSequence, WCF's receiver takes only numbers its final acknowledgement already covers (those are
    /// duplicates); any other is SequenceClosed, a fault that leaves the session as it is.
    /// </summary>
    private bool IsAfterClose(SequencePacket sequence) =>
        _closedAt is long closedAt && sequence.SequenceId == _inputId
        && (sequence.Number > closedAt || _closedAck is { } final && !final.Ranges.Any(r => r.Lower <= sequence.Number && sequence.Number <= r.Upper));

    private void RefuseAfterClose(SequencePacket sequence)
    {
        _log.Warning("Reliable session {0}: message {1} after CloseSequence (last {2}): SequenceClosed", _inputId, sequence.Number, _closedAt);
        _metrics.ReliableMessageDropped("sequence_closed");
        SendToClient(SequenceClosed($"Message {sequence.Number} came after CloseSequence ended the sequence at {_closedAt}."));
    }

    /// <summary>SequenceClosed as WCF sends it: with a forced final acknowledgement of the client's sequence.</summary>
    private Message SequenceClosed(string reason)
    {
        var fault = WsrmFaults.SequenceClosed(_messageVersion, _version, _inputId, reason);
        var ack = _closedAck ?? _lastInputAck;
        fault.Headers.Insert(0, WsrmHeaders.Acknowledgement(_version, _inputId, ack?.Ranges ?? [], ack?.BufferRemaining, final: true));
        return fault;
    }

    private void OnOutbound(Outbound outbound)
    {
        if (outbound.Packet switch { AckPacket a => a, SequencePacket s => s.Ack, _ => null } is { } inputAck && inputAck.SequenceId == _inputId)
        {
            _lastInputAck = inputAck;
            // Asked for to answer a CloseSequence or TerminateSequence: the answer carries the latest one (1.1) or
            // nothing (February 2005), so a standalone acknowledgement meanwhile is not sent on its own.
            if (outbound.Packet is AckPacket && _afterCatchUp.Count > 0) return;
        }
        using var message = WsrmPackets.Write(outbound.Packet, _version, _messageVersion);
        SendToClient(message);
    }

    /// <summary>
    /// Runs <paramref name="then"/> once the session has handled everything told to it before, and this actor has
    /// every packet it sent in return: Akka answers Identify in mailbox order, and keeps the order of one sender's
    /// messages, so the answer comes after them. <see cref="_lastInputAck"/> is then the session's current word.
    /// </summary>
    private void AfterSessionCatchesUp(Action then)
    {
        _afterCatchUp.Enqueue(then);
        _core.Tell(new Identify(null), Self);
    }

    /// <summary>1.1's CloseSequenceResponse and TerminateSequenceResponse carry a final acknowledgement.</summary>
    private void RespondWithFinalAck(string element, string action, UniqueId? relatesTo)
    {
        var ack = _lastInputAck;
        using var response = Message.CreateMessage(_messageVersion, action, WsrmBodies.SequenceReference(element, _version, _inputId));
        response.Headers.Insert(0, WsrmHeaders.Acknowledgement(_version, _inputId, ack?.Ranges ?? [], ack?.BufferRemaining, final: true));
        response.Headers.RelatesTo = relatesTo;
        SendToClient(response);
    }

    /// <summary>Ends the service's own sequence: TerminateSequence (both versions) or CloseSequence (1.1).</summary>
    private void SendRequest(string element, string action)
    {
        using var request = Message.CreateMessage(_messageVersion, action,
            WsrmBodies.SequenceReference(element, _version, _outputId, _lastNumberSent));
        if (_version.Is11)
        {
            request.Headers.MessageId = new UniqueId();
            // The client checks that the ReplyTo of these requests is the address it talks to.
            request.Headers.ReplyTo = new System.ServiceModel.EndpointAddress(_endpointAddress ?? WsrmVersion.AnonymousAddress);
        }
        SendToClient(request);
    }

    private void RespondToCreateSequence(Message createSequence)
    {
        _endpointAddress = createSequence.Headers.To?.ToString();
        using var response = Message.CreateMessage(_messageVersion, _version.CreateSequenceResponseAction,
            WsrmBodies.CreateSequenceResponse(_version, _inputId, acceptAcksTo: createSequence.Headers.To?.ToString(),
                _settings.Ordered));
        response.Headers.RelatesTo = createSequence.Headers.MessageId;
        SendToClient(response);
    }

    private void OnTerminateSequence(Message terminate)
    {
        var (id, _) = WsrmBodies.ReadSequenceReference(terminate.GetReaderAtBodyContents(), _version);
        if (id == _outputId)
        {
            // Only the sender of a sequence may terminate it: the client naming the service's own is a protocol error.
            _log.Warning("Reliable session {0}: the client terminated the service's sequence {1}", _inputId, id);
            _metrics.ReliableSessionFaulted("SequenceTerminated");
            SendToClient(WsrmFaults.SequenceTerminated(_messageVersion, _version, _outputId,
                "The RM Destination cannot terminate the RM Source's sequence.", senderFault: true));
            Context.Stop(Self);
            return;
        }
        if (id != _inputId) return;
        var relatesTo = terminate.Headers.MessageId;
        if (_version.Is11)
        {
            _core.Tell(new Inbound(new AckRequestPacket(_inputId), Self));
            AfterSessionCatchesUp(() =>
            {
                RespondWithFinalAck("TerminateSequenceResponse", _version.TerminateSequenceResponseAction, relatesTo);
                _clientTerminated = true;
                FinishIfDone();
            });
            return;
        }
        if (_lastInputAck is { Final: true })
        {
            OnClientTerminated(complete: true);
            return;
        }
        // Not yet acknowledged as complete. A client that waits for the acknowledgement of its LastMessage (WCF's does)
        // never gets here; one that does not may still be complete, so the session, which knows, is asked.
        _core.Tell(new Inbound(new AckRequestPacket(_inputId), Self));
        AfterSessionCatchesUp(() => OnClientTerminated(complete: _lastInputAck is { Final: true }));
    }

    /// <summary>
    /// February 2005: WCF faults a TerminateSequence that comes before every message through the last one is in
    /// (ReliableInputConnection.Terminate) with SequenceTerminated, as the client's protocol error.
    /// </summary>
    private void OnClientTerminated(bool complete)
    {
        if (!complete)
        {
            _log.Warning("Reliable session {0}: TerminateSequence before the sequence was complete: SequenceTerminated", _inputId);
            _metrics.ReliableSessionFaulted("SequenceTerminated");
            SendToClient(WsrmFaults.SequenceTerminated(_messageVersion, _version, _inputId,
                "The wsrm:TerminateSequence protocol message was transmitted before the sequence was successfully completed.",
                senderFault: true));
            Context.Stop(Self);
            return;
        }
        _clientTerminated = true;
        FinishIfDone();
    }

    private void OnDeliver(Deliver deliver)
    {
        using var message = ((MessageBuffer)deliver.Payload).CreateMessage();
        if (_callbacks.TryAnswer(message))
        {
            _core.Tell(RequestNext.Instance);
            return;
        }
        // One call at a time: the next message is taken when this one is answered, so the receive window is
        // what buffers a busy service (and BufferRemaining tells the client to slow down).
        _dispatcher.DispatchAsync(message, Self).PipeTo(Self, success: reply => new ReplyReady(reply));
    }

    private void OnInvokeCallback(InvokeCallback callback)
    {
        if (_callbacks.CreateRequest(callback, Sender) is { } request) SendReliably(request);
    }

    private void SendReliably(Message message)
    {
        using (message) _core.Tell(new Send(message.CreateBufferedCopy(int.MaxValue)));
    }

    private void SendToClient(Message message)
    {
        using (message) _connection.Tell(new SendSoap(message.CreateBufferedCopy(int.MaxValue)));
    }

    private void FinishIfDone()
    {
        if (!_outputClosed || !_clientTerminated) return;
        _log.Info("Reliable session {0} closed", _inputId);
        Context.Stop(Self);
    }
}
