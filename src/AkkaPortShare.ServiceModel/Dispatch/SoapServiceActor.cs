using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.ReliableSessions;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
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
    private readonly ServiceModelSettings _settings;
    private readonly EndpointMetrics _metrics;
    private IActorRef _implementation = ActorRefs.Nobody;
    private IActorRef _reliable = ActorRefs.Nobody;
    private readonly string? _reliableSessionPath;
    private readonly Props _implementationProps;
    private long _nextSessionId;

    /// <param name="baseAddress">The address it is registered at, as registered (the counters' attribute).</param>
    /// <param name="reliableSessionPath">A HOCON block overriding akka-port-share.reliable-session for this endpoint.</param>
    public static Props Props(Type contractType, string baseAddress, Props implementation, string? reliableSessionPath = null) =>
        Akka.Actor.Props.Create(() => new SoapServiceActor(ContractMap.For(contractType), baseAddress, implementation, reliableSessionPath));

    public SoapServiceActor(ContractMap contract, string baseAddress, Props implementation, string? reliableSessionPath)
    {
        _contract = contract;
        // In the worker's canonical form, so both meters name an address alike.
        var registered = BaseAddress.TryParse(baseAddress, out var parsed, out _) ? parsed.ToString() : baseAddress;
        _metrics = ServiceModelMetrics.Get(Context.System).ForEndpoint(registered, contract.ContractName);
        _reliableSessionPath = reliableSessionPath;
        _implementationProps = implementation;
        _settings = ServiceModelSettings.Create(Context.System);

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
        _reliable = Context.ActorOf(WsrmEndpointActor.Props(_contract, _implementation, _settings,
            WsrmEndpointSettings.Create(Context.System, _reliableSessionPath), _metrics), "reliable-sessions");
    }

    private void OnOpened(FramingSession.SessionOpened opened)
    {
        var expected = opened.Streamed ? BinaryContentType : BinarySessionContentType;
        if (opened.ContentType != expected)
        {
            // NetTcpBinding always uses the binary session encoder; anything else is another binding's client.
            _log.Info("Session from {0} uses content type {1}: ContentTypeInvalid", opened.RemoteAddress, opened.ContentType);
            opened.Session.Tell(new FramingSession.Fault(FramingFaults.ContentTypeInvalid));
            return;
        }
        var id = $"{_contract.ContractName}-{++_nextSessionId}";
        // The SOAP session accepts the framing session itself (FramingSession.Accept), naming itself as its handler.
        Context.ActorOf(SoapSessionActor.Props(opened.Session, _contract, _implementation, _reliable, _settings, id, _metrics,
            opened.Streamed), id);
    }
}
