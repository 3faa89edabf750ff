using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.ReliableSessions;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Dispatch;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;
using static AkkaPortShare.ServiceModel.ReliableMessaging.WsrmProtocol;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.ReliableMessaging;

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

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _inputId;
    private readonly string _outputId;
    private readonly WsrmVersion _version;
    private readonly ContractMap _contract;
    private readonly ReliableSessionSettings _settings;
    private readonly OperationDispatcher _dispatcher;
    private readonly Dictionary<UniqueId, (IActorRef Caller, OperationMap Operation)> _pendingCallbacks = new();
    private readonly MessageVersion _messageVersion = MessageVersion.Soap12WSAddressing10;
    private IActorRef _core = ActorRefs.Nobody;
    private IActorRef _connection = ActorRefs.Nobody;
    private bool _outputClosed;
    private bool _clientTerminated;

    public static Props Props(string inputId, string outputId, WsrmVersion version, ContractMap contract,
        IActorRef implementation, ServiceModelSettings serviceSettings, ReliableSessionSettings settings) =>
        Akka.Actor.Props.Create(() => new WsrmSessionActor(inputId, outputId, version, contract, implementation,
            serviceSettings, settings));

    public WsrmSessionActor(string inputId, string outputId, WsrmVersion version, ContractMap contract,
        IActorRef implementation, ServiceModelSettings serviceSettings, ReliableSessionSettings settings)
    {
        _inputId = inputId;
        _outputId = outputId;
        _version = version;
        _contract = contract;
        _settings = settings;
        _dispatcher = new OperationDispatcher(contract, implementation, serviceSettings, _messageVersion, inputId, _log);

        Receive<RmReceived>(OnReceived);
        Receive<Outbound>(o => SendToClient(WsrmPackets.Write(o.Packet, _version, _messageVersion)));
        Receive<Accepted>(_ => _core.Tell(RequestNext.Instance));
        Receive<Deliver>(OnDeliver);
        Receive<ReplyReady>(r =>
        {
            if (r.Reply is not null) SendReliably(r.Reply);
            _core.Tell(RequestNext.Instance);
        });
        Receive<InvokeCallback>(OnInvokeCallback);
        Receive<InputCompleted>(_ => _core.Tell(CloseOutput.Instance));
        Receive<OutputClosed>(_ =>
        {
            _outputClosed = true;
            using var terminate = Message.CreateMessage(_messageVersion, _version.TerminateSequenceAction,
                WsrmBodies.SequenceReference("TerminateSequence", _version, _outputId));
            SendToClient(terminate);
            FinishIfDone();
        });
        Receive<SessionFaulted>(f =>
        {
            using var fault = f.Kind == FaultKind.InvalidAcknowledgement
                ? WsrmFaults.InvalidAcknowledgement(_messageVersion, _version, f.Reason)
                : WsrmFaults.SequenceTerminated(_messageVersion, _version, f.Reason, senderFault: f.Kind != FaultKind.SequenceTerminated);
            SendToClient(fault);
            Context.Stop(Self);
        });
    }

    protected override void PreStart() =>
        _core = Context.ActorOf(ReliableSessionActor.Props(_settings, _outputId, _inputId, Self, Self), "sequence");

    private void OnReceived(RmReceived received)
    {
        _connection = received.Connection;
        using var message = received.Message.CreateMessage();
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
        foreach (var packet in WsrmPackets.Read(message, _version)) _core.Tell(new Inbound(packet, Self));
    }

    private void RespondToCreateSequence(Message createSequence)
    {
        using var response = Message.CreateMessage(_messageVersion, _version.CreateSequenceResponseAction,
            WsrmBodies.CreateSequenceResponse(_version, _inputId, acceptAcksTo: createSequence.Headers.To?.ToString(),
                _settings.Ordered));
        response.Headers.RelatesTo = createSequence.Headers.MessageId;
        SendToClient(response);
    }

    private void OnTerminateSequence(Message terminate)
    {
        var (id, _) = WsrmBodies.ReadSequenceReference(terminate.GetReaderAtBodyContents(), _version);
        if (id != _inputId) return;
        _clientTerminated = true;
        if (_version.Is11)
        {
            using var response = Message.CreateMessage(_messageVersion, _version.TerminateSequenceResponseAction,
                WsrmBodies.SequenceReference("TerminateSequenceResponse", _version, _inputId));
            response.Headers.RelatesTo = terminate.Headers.MessageId;
            SendToClient(response);
        }
        FinishIfDone();
    }

    private void OnDeliver(Deliver deliver)
    {
        using var message = ((MessageBuffer)deliver.Payload).CreateMessage();
        if (message.Headers.RelatesTo is { } relatesTo && _pendingCallbacks.Remove(relatesTo, out var pending))
        {
            pending.Caller.Tell(new OperationResult(OperationBody.ReadResult(message.GetReaderAtBodyContents(), pending.Operation)));
            _core.Tell(RequestNext.Instance);
            return;
        }
        // One call at a time: the next message is taken when this one is answered, so the receive window is
        // what buffers a busy service (and BufferRemaining tells the client to slow down).
        _dispatcher.DispatchAsync(message, Self).PipeTo(Self, success: reply => new ReplyReady(reply));
    }

    private void OnInvokeCallback(InvokeCallback callback)
    {
        if (!_contract.TryGetCallback(callback.Operation, out var operation))
        {
            Sender.Tell(new Status.Failure(new ArgumentException(
                $"{callback.Operation} is not an operation of {_contract.ContractName}'s callback contract.")));
            return;
        }
        var message = Message.CreateMessage(_messageVersion, operation!.Action, OperationBody.Request(operation, callback.Arguments));
        if (!operation.IsOneWay)
        {
            var id = new UniqueId();
            message.Headers.MessageId = id;
            message.Headers.ReplyTo = new System.ServiceModel.EndpointAddress(WsrmVersion.AnonymousAddress);
            _pendingCallbacks[id] = (Sender, operation);
        }
        SendReliably(message);
    }

    private void SendReliably(Message message)
    {
        using (message) _core.Tell(new Send(message.CreateBufferedCopy(int.MaxValue)));
    }

    private void SendToClient(Message message) =>
        _connection.Tell(new SendSoap(message.CreateBufferedCopy(int.MaxValue)));

    private void FinishIfDone()
    {
        if (!_outputClosed || !_clientTerminated) return;
        _log.Info("Reliable session {0} closed", _inputId);
        Context.Stop(Self);
    }
}
