using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.ReliableSessions;
using AkkaPortShare.ServiceModel.Contracts;
using System.ServiceModel.Channels;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.ServiceModel.Hosting;
using AkkaPortShare.ServiceModel.Wsrm;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Dispatch;

/// <summary>
/// Serves one WCF contract at one base address: the framing layer's service actor. It owns the actor that
/// implements the contract and the endpoint's reliable-session listener, and accepts each framing session with a
/// <see cref="SoapSessionActor"/> of its own: from then on the framing session and its SOAP session talk directly and
/// watch each other, so this actor keeps no map of them and forwards nothing.
/// </summary>
internal sealed class SoapServiceActor : ReceiveActor
{
    private const string BinarySessionContentType = "application/soap+msbinsession1";
    private const string BinaryContentType = "application/soap+msbin1"; // streamed transfer mode: no session dictionary

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ContractMap _contract;
    private readonly EndpointBinding _binding;
    private readonly MessageEncoder? _textEncoder; // a text endpoint's: which content types it reads
    private readonly EndpointMetrics _metrics;
    private IActorRef _implementation = ActorRefs.Nobody;
    private IActorRef _reliable = ActorRefs.Nobody;
    private readonly Props _implementationProps;
    private long _nextSessionId;

    /// <param name="baseAddress">The address it is registered at, as registered (the counters' attribute).</param>
    /// <param name="reliableSessionPath">A HOCON block overriding akka-port-share.reliable-session for this endpoint.</param>
    /// <param name="binding">The endpoint's own binding settings, over HOCON's.</param>
    public static Props Props(Type contractType, string baseAddress, Props implementation, string? reliableSessionPath = null,
        NetTcpEndpointOptions? binding = null) =>
        Akka.Actor.Props.Create(() => new SoapServiceActor(ContractMap.For(contractType), baseAddress, implementation,
            reliableSessionPath, binding));

    public SoapServiceActor(ContractMap contract, string baseAddress, Props implementation, string? reliableSessionPath,
        NetTcpEndpointOptions? binding)
    {
        _contract = contract;
        // In the worker's canonical form, so both meters name an address alike.
        var registered = BaseAddress.TryParse(baseAddress, out var parsed, out _) ? parsed.ToString() : baseAddress;
        _metrics = ServiceModelMetrics.Get(Context.System).ForEndpoint(registered, contract.ContractName);
        _implementationProps = implementation;
        _binding = EndpointBinding.Resolve(Context.System.Settings.Config, reliableSessionPath, binding);
        _textEncoder = _binding.TextMessageVersion is { } version
            ? new TextMessageEncodingBindingElement(version, System.Text.Encoding.UTF8).CreateMessageEncoderFactory().Encoder
            : null;

        Receive<FramingSession.SessionOpened>(OnOpened);
        // Only a session's own handler gets its messages; one reaching here was sent before this actor restarted.
        Receive<FramingSession.MessageStreamReceived>(m => m.Body.Dispose());
    }

    /// <summary>
    /// The implementation is the user's actor: it restarts as Akka's default would, and the endpoint goes on. The
    /// reliable-session listener restarts too (its sessions, its children, are lost, and their clients fault), so the
    /// endpoint keeps accepting reliable sessions. A SOAP session stops: restarted it would rebuild WCF's binary session
    /// encoder without the dictionary the client already uses; stopped, its framing session (which watches it) closes
    /// the connection and the client sees the session fault.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        if (Sender.Equals(_implementation) || Sender.Equals(_reliable)) return Directive.Restart;
        _log.Warning("SOAP session {0} failed ({1}: {2}); its connection is closed", Sender.Path.Name, e.GetType().Name, e.Message);
        return Directive.Stop;
    });

    protected override void PreStart()
    {
        foreach (var refused in _contract.Unsupported)
            _log.Warning("{0} of {1} is not served ({2}); calls to it get a fault", refused.IsCallback ? "Callback operation " + refused.Name
                : "Operation " + refused.Name, _contract.ContractName, refused.Reason);
        _implementation = Context.ActorOf(_implementationProps, "implementation");
        // Without reliable sessions (ReliableSession.Enabled off) WS-RM messages are the contract's to answer: unknown actions.
        if (_binding.ReliableEnabled)
            _reliable = Context.ActorOf(WsrmEndpointActor.Props(_contract, _implementation, _binding.Service,
                _binding.Reliable, _metrics), "reliable-sessions");
    }

    private void OnOpened(FramingSession.SessionOpened opened)
    {
        if (!ModeServed(opened.Streamed))
        {
            _log.Info("Session from {0} is {1}, the endpoint's TransferMode {2}: UnsupportedMode", opened.RemoteAddress,
                opened.Streamed ? "streamed" : "buffered", _binding.TransferMode);
            opened.Session.Tell(new FramingSession.Fault(FramingFaults.UnsupportedMode));
            return;
        }
        if (!ContentTypeServed(opened))
        {
            // Another encoding's (or binding's) client: WCF's listener answers ContentTypeInvalid, written before any
            // PreambleAck, so the client reads it.
            _log.Info("Session from {0} uses content type {1}: ContentTypeInvalid", opened.RemoteAddress, opened.ContentType);
            opened.Session.Tell(new FramingSession.Fault(FramingFaults.ContentTypeInvalid));
            return;
        }
        var id = $"{_contract.ContractName}-{++_nextSessionId}";
        // The SOAP session accepts the framing session itself (FramingSession.Accept), naming itself as its handler.
        Context.ActorOf(SoapSessionActor.Props(opened.Session, _contract, _implementation, _reliable, _binding.Service, id, _metrics,
            opened.Streamed, _binding.TextMessageVersion, _binding.MaxReceivedMessageSize, Caller.Of(opened)), id);
    }

    // NetTcpBinding's binary session encoder (its sessionless one when streamed), or the text endpoint's message version.
    private bool ContentTypeServed(FramingSession.SessionOpened opened) => _textEncoder is null
        ? opened.ContentType == (opened.Streamed ? BinaryContentType : BinarySessionContentType)
        : _textEncoder.IsContentTypeSupported(opened.ContentType);

    // Null (the default) serves both; WCF's listener runs one framing mode: duplex sessions buffered, singleton streamed.
    private bool ModeServed(bool streamed) => _binding.TransferMode switch
    {
        null => true,
        System.ServiceModel.TransferMode.Buffered => !streamed,
        _ => streamed,
    };
}
