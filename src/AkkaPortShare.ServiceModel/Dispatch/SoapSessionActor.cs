using System.Runtime.Serialization;
using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.ServiceModel.Wsrm;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Dispatch;

/// <summary>
/// One WCF session on one framing session. Messages are decoded and encoded with WCF's binary session encoder,
/// one instance per session because it keeps a per-session string dictionary. Each request's action picks the
/// operation; the implementation actor's answer goes back with RelatesTo = the request's MessageID. Requests are
/// asked concurrently, so a slow operation does not hold up the session's other calls. The framing session delivers
/// at most max-concurrent-calls-per-session messages this actor has not finished with (decoding, the call, or a
/// reliable session taking it): it asks for one more as each is done (FramingSession.RequestMessages), so a client
/// that sends faster than the service answers waits in TCP, not in mailboxes.
/// It and its framing session are one unit: it accepts the framing session as its handler, each watches the other, and
/// it ends with the connection. The implementation hears of the session (SessionStarted, the same id on every
/// OperationInvoked, SessionEnded) only once a message of its own arrives: a connection that carries a reliable
/// session is that session's transport, and the reliable session (which outlives connections) is announced instead.
/// </summary>
internal sealed class SoapSessionActor : ReceiveActor
{
    private sealed record ReplyReady(Message? Reply);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _framing;
    private readonly ContractMap _contract;
    private readonly IActorRef _implementation;
    private readonly ServiceModelSettings _settings;
    private readonly string _sessionId;
    private readonly MessageEncoder _encoder;
    private readonly OperationDispatcher _dispatcher;
    private readonly IActorRef _reliable;
    private readonly BufferManager _buffers = BufferManager.CreateBufferManager(0, int.MaxValue);
    private readonly CallbackCalls _callbacks;
    private readonly EndpointMetrics _metrics;
    private bool _announced; // SessionStarted told: SessionEnded is due when this session ends

    /// <param name="reliable">The endpoint's reliable-session listener: WS-RM messages go there.</param>
    public static Props Props(IActorRef framing, ContractMap contract, IActorRef implementation, IActorRef reliable,
        ServiceModelSettings settings, string sessionId, EndpointMetrics metrics, bool streamed = false) =>
        Akka.Actor.Props.Create(() => new SoapSessionActor(framing, contract, implementation, reliable, settings, sessionId, metrics, streamed));

    public SoapSessionActor(IActorRef framing, ContractMap contract, IActorRef implementation, IActorRef reliable,
        ServiceModelSettings settings, string sessionId, EndpointMetrics metrics, bool streamed)
    {
        _metrics = metrics;
        _reliable = reliable;
        _framing = framing;
        _contract = contract;
        _implementation = implementation;
        _settings = settings;
        _sessionId = sessionId;
        var encoding = new BinaryMessageEncodingBindingElement();
        // Incoming size is already bounded by the framing layer (max-message-size); no second, smaller limit.
        XmlDictionaryReaderQuotas.Max.CopyTo(encoding.ReaderQuotas);
        // Buffered sessions use the session encoder (NetTcpBinding's default); streamed ones the sessionless one.
        var factory = encoding.CreateMessageEncoderFactory();
        _encoder = streamed ? factory.Encoder : factory.CreateSessionEncoder();
        _callbacks = new CallbackCalls(contract, _encoder.MessageVersion);
        _dispatcher = new OperationDispatcher(contract, implementation, settings, _encoder.MessageVersion, sessionId, _log, metrics);

        Receive<FramingSession.MessageReceived>(m => OnMessage(m.Payload));
        Receive<FramingSession.MessageStreamReceived>(m =>
        {
            Announce();
            _ = new StreamedExchange(_encoder, _contract, _implementation, _framing, Self, _settings, _sessionId, _log, _metrics)
                .RunAsync(m.Body);
        });
        // The connection ended (the client's End, a drop, a fault): so does this session.
        Receive<FramingSession.SessionClosed>(_ => Context.Stop(Self));
        Receive<Terminated>(t => t.ActorRef.Equals(_framing), _ => Context.Stop(Self));
        Receive<ReplyReady>(r =>
        {
            Done();
            if (r.Reply is not null) Send(r.Reply);
        });
        Receive<InvokeCallback>(OnInvokeCallback);
        Receive<WsrmProtocol.RmHandled>(_ => Done());
        Receive<WsrmProtocol.SendSoap>(s => Send(s.Message.CreateMessage()));
        Receive<WsrmProtocol.CloseConnection>(_ => _framing.Tell(FramingSession.Close.Instance));
    }

    private void OnMessage(byte[] payload)
    {
        Message message;
        try
        {
            message = _encoder.ReadMessage(new ArraySegment<byte>(payload), _buffers, _encoder.ContentType);
        }
        catch (Exception e)
        {
            // WCF's decoder fails in many ways on bad input (XmlException, NotImplementedException from its own
            // error path, ArgumentOutOfRangeException, UriFormatException...): whichever it is, the connection goes.
            _log.Warning("Session {0}: undecodable message ({1}: {2}); closing the connection", _sessionId, e.GetType().Name, e.Message);
            _framing.Tell(new FramingSession.Abort($"undecodable SOAP message: {e.Message}"));
            return;
        }

        using (message)
        {
            // A reliable session's messages belong to its session actor, which outlives this connection.
            if (ReliableVersionOf(message) is { } rm)
            {
                _reliable.Tell(new WsrmProtocol.RmReceived(message.CreateBufferedCopy(int.MaxValue), rm, Self));
                return;
            }
            if (_callbacks.TryAnswer(message))
            {
                Done();
                return;
            }
            Announce();

            _dispatcher.DispatchAsync(message, Self).PipeTo(Self, success: reply => new ReplyReady(reply), failure: _ => new ReplyReady(null));
        }
    }


    protected override void PreStart()
    {
        _metrics.SessionStarted(reliable: false);
        Context.Watch(_framing);
        _framing.Tell(new FramingSession.Accept(Self));
        _framing.Tell(new FramingSession.RequestMessages(_settings.MaxConcurrentCallsPerSession));
    }

    protected override void PostStop()
    {
        _metrics.SessionsEnded(reliable: false);
        _callbacks.FailAll(_sessionId);
        if (_announced) _implementation.Tell(new SessionEnded(_sessionId));
    }

    /// <summary>This connection carries a session of the service's own (not a reliable session's messages): say so once.</summary>
    private void Announce()
    {
        if (_announced) return;
        _announced = true;
        _implementation.Tell(new SessionStarted(_sessionId, Self));
    }

    // One message finished with: the framing session may deliver the next.
    private void Done() => _framing.Tell(new FramingSession.RequestMessages(1));

    private void OnInvokeCallback(InvokeCallback callback)
    {
        if (_callbacks.CreateRequest(callback, Sender) is { } request) Send(request);
    }

    private static WsrmVersion? ReliableVersionOf(Message message) =>
        WsrmVersion.ForAction(message.Headers.Action)
        ?? (message.Headers.FindHeader("Sequence", WsrmVersion.February2005.Namespace) >= 0 ? WsrmVersion.February2005
            : message.Headers.FindHeader("Sequence", WsrmVersion.V11.Namespace) >= 0 ? WsrmVersion.V11
            : null);

    private void Reply(Message reply, UniqueId relatesTo)
    {
        reply.Headers.RelatesTo = relatesTo;
        Send(reply);
    }

    private void Send(Message message)
    {
        using (message)
        {
            ArraySegment<byte> encoded;
            try
            {
                encoded = _encoder.WriteMessage(message, _settings.MaxReplySize, _buffers);
            }
            catch (Exception e) when (e is System.ServiceModel.QuotaExceededException or SerializationException
                                          or InvalidDataContractException)
            {
                _log.Warning("Session {0}: a message cannot be written ({1})", _sessionId, e.Message);
                if (message.Headers.RelatesTo is { } relatesTo)
                    Reply(SoapFaults.Internal(_encoder.MessageVersion, e is System.ServiceModel.QuotaExceededException
                        ? "The reply exceeds the service's max-reply-size."
                        : $"The reply cannot be written: {e.Message}"), relatesTo);
                else if (message.Headers.MessageId is { } callbackId)
                    _callbacks.Fail(callbackId, e);
                return;
            }
            _framing.Tell(new FramingSession.Send(encoded.AsSpan().ToArray()));
        }
    }
}
