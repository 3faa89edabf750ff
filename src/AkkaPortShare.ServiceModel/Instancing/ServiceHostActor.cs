using System.ServiceModel;
using InstanceContextMode = AkkaPortShare.ServiceModel.InstanceContextMode;
using Akka.Actor;
using Akka.Event;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Instancing;

/// <summary>
/// Hosts a WCF service class as the implementation actor of its endpoint: it keeps the instances the service's
/// InstanceContextMode asks for, each a <see cref="ServiceInstanceActor"/>, and sends every call to its instance.
/// PerSession: one instance per session (by the id SessionStarted, OperationInvoked and SessionEnded share, which for
/// a reliable session is the reliable session's), disposed when the session ends. PerCall: a new instance for every
/// call. Single: one instance for every call of every session.
/// </summary>
internal sealed class ServiceHostActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Func<object> _create;
    private readonly ServiceBehavior _behavior;
    private readonly ServiceOperationInvoker _invoker;
    private readonly CallbackChannels? _callbacks;
    private readonly Dictionary<string, IActorRef> _sessions = new(StringComparer.Ordinal);
    private IActorRef _single = ActorRefs.Nobody;
    private long _nextInstance;

    public static Props Props(Type serviceType, Type contractType, Func<object> create) =>
        Akka.Actor.Props.Create(() => new ServiceHostActor(serviceType, contractType, create));

    public ServiceHostActor(Type serviceType, Type contractType, Func<object> create)
    {
        _create = create;
        _behavior = ServiceBehavior.For(serviceType);
        _callbacks = CallbackChannels.For(contractType);
        _invoker = new ServiceOperationInvoker(contractType, _behavior, _callbacks);

        switch (_behavior.InstanceMode)
        {
            case InstanceContextMode.PerCall:
                Receive<OperationInvoked>(invoked => NewInstance(perCall: true).Forward(invoked));
                break;
            case InstanceContextMode.Single:
                Receive<OperationInvoked>(invoked => _single.Forward(invoked));
                break;
            default:
                Receive<SessionStarted>(started => InstanceOf(started.SessionId));
                Receive<OperationInvoked>(invoked => InstanceOf(invoked.SessionId).Forward(invoked));
                Receive<SessionEnded>(ended =>
                {
                    if (_sessions.Remove(ended.SessionId, out var instance)) Context.Stop(instance);
                    _callbacks?.End(ended.SessionId);
                });
                Receive<Terminated>(t =>
                {
                    foreach (var (id, instance) in _sessions)
                        if (instance.Equals(t.ActorRef)) { _sessions.Remove(id); break; }
                });
                break;
        }
        Receive<SessionStarted>(_ => { });
        Receive<SessionEnded>(ended => _callbacks?.End(ended.SessionId));
    }

    protected override void PreStart()
    {
        if (_behavior.InstanceMode == InstanceContextMode.Single) _single = NewInstance(perCall: false);
    }

    protected override void PostStop() => _callbacks?.Dispose();

    /// <summary>
    /// An instance actor fails only through a fault of ours (the service's exceptions are answers): it is stopped, and
    /// the session's next call gets a new instance, as WCF replaces an InstanceContext that faulted.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        _log.Error(e, "Service instance {0} failed; it is discarded", Sender.Path.Name);
        return Directive.Stop;
    });

    private IActorRef InstanceOf(string sessionId)
    {
        if (_sessions.TryGetValue(sessionId, out var instance)) return instance;
        instance = Context.Watch(NewInstance(perCall: false));
        _sessions[sessionId] = instance;
        return instance;
    }

    private IActorRef NewInstance(bool perCall) =>
        Context.ActorOf(ServiceInstanceActor.Props(_create, _invoker, _behavior, perCall), $"instance-{++_nextInstance}");
}
