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
/// implements the contract and starts a <see cref="SoapSessionActor"/> per framing session.
/// </summary>
internal sealed class SoapServiceActor : ReceiveActor
{
    private const string BinarySessionContentType = "application/soap+msbinsession1";
    private const string BinaryContentType = "application/soap+msbin1"; // streamed transfer mode: no session dictionary

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ContractMap _contract;
    private readonly Dictionary<IActorRef, (IActorRef Soap, string Id)> _sessions = new();
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
        Receive<FramingSession.MessageReceived>(m =>
        {
            if (_sessions.TryGetValue(m.Session, out var session)) session.Soap.Forward(m);
        });
        Receive<FramingSession.MessageStreamReceived>(m =>
        {
            if (_sessions.TryGetValue(m.Session, out var session)) session.Soap.Forward(m);
            else m.Body.Dispose();
        });
        Receive<FramingSession.SessionClosed>(c =>
        {
            if (!_sessions.Remove(c.Session, out var session)) return;
            _metrics.SessionsEnded(reliable: false);
            Context.Stop(session.Soap);
            _implementation.Tell(new SessionEnded(session.Id));
        });
    }

    protected override void PreStart()
    {
        _implementation = Context.ActorOf(_implementationProps, "implementation");
        _reliable = Context.ActorOf(WsrmEndpointActor.Props(_contract, _implementation, _settings,
            WsrmEndpointSettings.Create(Context.System, _reliableSessionPath), _metrics), "reliable-sessions");
    }

    // Sessions still open end with this actor (their SOAP actors are its children).
    protected override void PostStop() => _metrics.SessionsEnded(reliable: false, _sessions.Count);

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
        var soap = Context.ActorOf(SoapSessionActor.Props(opened.Session, _contract, _implementation, _reliable, _settings, id, _metrics,
            opened.Streamed), id);
        _sessions[opened.Session] = (soap, id);
        _metrics.SessionStarted(reliable: false);
        _implementation.Tell(new SessionStarted(id, soap));
    }
}
