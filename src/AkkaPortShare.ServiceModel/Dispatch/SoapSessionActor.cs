using System.Runtime.Serialization;
using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.ServiceModel.Wsrm;
using AkkaPortShare.Worker;
using AkkaPortShare.Worker.Sessions;
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
/// A buffered session with no message from its client for the endpoint's ReceiveTimeout is closed, as WCF's service
/// closes such a channel. WCF's session rules (<see cref="SessionRules"/>): after an internal-error fault reply the
/// session is closed, after a one-way call's unhandled exception it is aborted (<see cref="Instancing.AbortSession"/>),
/// and after an IsTerminating operation it takes no more calls, ends for the service, and is aborted if the client has
/// not closed it within CloseTimeout.
/// </summary>
internal sealed class SoapSessionActor : ReceiveActor, IWithTimers
{
    private sealed record ReplyReady(Message? Reply, bool Terminating = false);
    private sealed class ReceiveTimedOut { public static readonly ReceiveTimedOut Instance = new(); }
    private sealed class CloseTimedOut { public static readonly CloseTimedOut Instance = new(); }

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
    private readonly SessionRules _rules;
    private readonly EndpointMetrics _metrics;
    private readonly bool _streamed;
    private readonly int? _maxReceivedMessageSize;
    private readonly Caller? _caller; // who the client proved to be (TLS certificate or Windows identity), if it did
    private bool _announced; // SessionStarted told: SessionEnded is due when this session ends
    private bool _moving;    // the connection is being passed to the worker of its reliable session: nothing more is read here

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="reliable">The endpoint's reliable-session listener: WS-RM messages go there (Nobody: the endpoint has none).</param>
    /// <param name="textMessageVersion">Text encoding in this message version; null: WCF's binary encoding.</param>
    /// <param name="maxReceivedMessageSize">The endpoint's own limit on incoming messages; null: the worker's max-message-size.</param>
    /// <param name="caller">Who the client proved to be (SessionOpened's certificate or Windows identity), given to the service with every call.</param>
    public static Props Props(IActorRef framing, ContractMap contract, IActorRef implementation, IActorRef reliable,
        ServiceModelSettings settings, string sessionId, EndpointMetrics metrics, bool streamed = false,
        MessageVersion? textMessageVersion = null, int? maxReceivedMessageSize = null, Caller? caller = null) =>
        Akka.Actor.Props.Create(() => new SoapSessionActor(framing, contract, implementation, reliable, settings, sessionId, metrics,
            streamed, textMessageVersion, maxReceivedMessageSize, caller));

    public SoapSessionActor(IActorRef framing, ContractMap contract, IActorRef implementation, IActorRef reliable,
        ServiceModelSettings settings, string sessionId, EndpointMetrics metrics, bool streamed, MessageVersion? textMessageVersion,
        int? maxReceivedMessageSize, Caller? caller)
    {
        _caller = caller;
        _streamed = streamed;
        _maxReceivedMessageSize = maxReceivedMessageSize;
        _metrics = metrics;
        _reliable = reliable;
        _framing = framing;
        _contract = contract;
        _implementation = implementation;
        _settings = settings;
        _sessionId = sessionId;
        _encoder = CreateEncoder(settings.ReaderQuotas, streamed, textMessageVersion);
        _callbacks = new CallbackCalls(contract, _encoder.MessageVersion);
        _rules = new SessionRules(contract, _encoder.MessageVersion);
        _dispatcher = new OperationDispatcher(contract, implementation, settings, _encoder.MessageVersion, sessionId, _log, metrics, caller);

        Receive<FramingSession.MessageReceived>(m =>
        {
            if (_moving) return; // it goes with the connection to the session's worker, and is read there
            StartReceiveTimer();
            OnMessage(m.Payload, m.Movable);
        });
        Receive<ReceiveTimedOut>(_ =>
        {
            _log.Info("Session {0}: no message within ReceiveTimeout {1}; closing it", _sessionId, _settings.ReceiveTimeout);
            _framing.Tell(FramingSession.Close.Instance);
        });
        Receive<FramingSession.MessageStreamReceived>(m =>
        {
            Announce();
            _ = new StreamedExchange(_encoder, _contract, _implementation, _framing, Self, _settings, _sessionId, _log, _metrics, _caller)
                .RunAsync(m.Body);
        });
        // The connection ended (the client's End, a drop, a fault): so does this session.
        Receive<FramingSession.SessionClosed>(_ => Context.Stop(Self));
        Receive<Terminated>(t => t.ActorRef.Equals(_framing), _ => Context.Stop(Self));
        Receive<ReplyReady>(OnReplyReady);
        Receive<CloseTimedOut>(_ =>
        {
            _log.Info("Session {0}: not closed by its client within CloseTimeout {1} after its terminating operation; aborting it",
                _sessionId, _settings.CloseTimeout);
            _framing.Tell(new FramingSession.Abort("IsTerminating operation answered; the client did not close the session"));
        });
        // A one-way call of the service threw (not a FaultException): WCF aborts the session channel.
        Receive<Instancing.AbortSession>(a =>
        {
            _log.Info("Session {0}: aborted ({1})", _sessionId, a.Reason);
            _framing.Tell(new FramingSession.Abort(a.Reason));
        });
        Receive<InvokeCallback>(OnInvokeCallback);
        Receive<WsrmProtocol.RmHandled>(_ => Done());
        Receive<WsrmProtocol.SendSoap>(s => Send(s.Message.CreateMessage()));
        Receive<WsrmProtocol.CloseConnection>(_ => _framing.Tell(FramingSession.Close.Instance));
        // The reliable session is another worker's: the connection goes there, and this session ends with it here.
        Receive<MoveSession>(move =>
        {
            _moving = true;
            _framing.Tell(move);
        });
        // It could not move (its worker was not found): read on here; the client sends again what was set aside.
        Receive<SessionStays>(_ => _moving = false);
    }

    /// <summary>
    /// The encoder of one session: the reader quotas are the endpoint's. Binary buffered sessions use the session
    /// encoder (NetTcpBinding's default), streamed ones the sessionless one; text has no session encoder.
    /// </summary>
    private static MessageEncoder CreateEncoder(XmlDictionaryReaderQuotas quotas, bool streamed, MessageVersion? text)
    {
        if (text is not null)
        {
            var textEncoding = new TextMessageEncodingBindingElement(text, System.Text.Encoding.UTF8);
            quotas.CopyTo(textEncoding.ReaderQuotas);
            return textEncoding.CreateMessageEncoderFactory().Encoder;
        }
        var encoding = new BinaryMessageEncodingBindingElement();
        quotas.CopyTo(encoding.ReaderQuotas);
        var factory = encoding.CreateMessageEncoderFactory();
        return streamed ? factory.Encoder : factory.CreateSessionEncoder();
    }

    // WCF's receive timeout runs while the channel waits for a message; a streamed session carries one message and ends with its reply.
    private void StartReceiveTimer()
    {
        if (!_streamed) Timers.StartSingleTimer(ReceiveTimedOut.Instance, ReceiveTimedOut.Instance, _settings.ReceiveTimeout);
    }

    private void OnMessage(byte[] payload, bool movable)
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
            if (!_reliable.IsNobody() && ReliableVersionOf(message) is { } rm)
            {
                var sequenceId = SequenceIdOf(message, rm);
                _reliable.Tell(new WsrmProtocol.RmReceived(message.CreateBufferedCopy(int.MaxValue), rm, Self)
                {
                    Caller = _caller, Movable = movable, SequenceId = sequenceId,
                });
                return;
            }
            if (_callbacks.TryAnswer(message))
            {
                Done();
                return;
            }
            Announce();
            if (!_rules.Admit(message, out var terminating, out var refusal))
            {
                Done();
                if (refusal is not null) Send(refusal);
                return;
            }

            _dispatcher.DispatchAsync(message, Self).PipeTo(Self,
                success: reply => new ReplyReady(reply, terminating), failure: _ => new ReplyReady(null, terminating));
        }
    }


    protected override void PreStart()
    {
        _metrics.SessionStarted(reliable: false);
        Context.Watch(_framing);
        _framing.Tell(new FramingSession.Accept(Self, _maxReceivedMessageSize));
        _framing.Tell(new FramingSession.RequestMessages(_settings.MaxConcurrentCallsPerSession));
        StartReceiveTimer();
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
        if (_announced || _rules.Terminated) return;
        _announced = true;
        _implementation.Tell(new SessionStarted(_sessionId, Self) { ClientCertificate = _caller?.Certificate, ClientIdentity = _caller?.Identity });
    }

    private void OnReplyReady(ReplyReady ready)
    {
        Done();
        var reply = ready.Reply;
        var unhandled = reply is not null && SessionRules.IsUnhandled(ref reply);
        if (reply is not null) Send(reply);
        if (unhandled)
        {
            // WCF closes the session channel once the internal-error fault is sent; the client has faulted its own.
            _log.Info("Session {0}: closed after an internal-error fault, as WCF closes a session after an unhandled exception", _sessionId);
            _framing.Tell(FramingSession.Close.Instance);
        }
        else if (ready.Terminating) EndForService();
    }

    /// <summary>
    /// The terminating operation answered: the service is done with this session (its PerSession instance is
    /// released now), and the client, which closes its channel after such a reply, has CloseTimeout to do so.
    /// </summary>
    private void EndForService()
    {
        _callbacks.FailAll(_sessionId);
        if (_announced) _implementation.Tell(new SessionEnded(_sessionId));
        _announced = false;
        Timers.StartSingleTimer(CloseTimedOut.Instance, CloseTimedOut.Instance, _settings.CloseTimeout);
    }

    // One message finished with: the framing session may deliver the next.
    private void Done() => _framing.Tell(new FramingSession.RequestMessages(1));

    private void OnInvokeCallback(InvokeCallback callback)
    {
        if (_callbacks.CreateRequest(callback, Sender) is { } request) Send(request);
    }

    private static string? SequenceIdOf(Message message, WsrmVersion version)
    {
        try
        {
            return WsrmHeaders.ReadSequence(message.Headers, version)?.Identifier;
        }
        catch (XmlException)
        {
            return null; // the endpoint reads it again, and answers what it finds
        }
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
            StartReceiveTimer(); // the client is busy reading: idle counts from here too
        }
    }
}
