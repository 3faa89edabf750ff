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
/// Each session actor (OperationInvoked.Callback, SessionStarted.Callback) is watched: a session whose actor stops
/// ends as if SessionEnded had come, so a call that arrives after SessionEnded (a streamed exchange racing the
/// session's end) cannot leave an instance or a callback proxy behind.
/// </summary>
internal sealed class ServiceHostActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Func<object> _create;
    private readonly ServiceBehavior _behavior;
    private readonly ServiceOperationInvoker _invoker;
    private readonly CallbackChannels? _callbacks;
    private readonly Dictionary<string, IActorRef> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, HashSet<string>> _sessionActors = new();
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

        Receive<SessionStarted>(started => WatchSession(started.Callback, started.SessionId));
        Receive<OperationInvoked>(invoked =>
        {
            WatchSession(invoked.Callback, invoked.SessionId);
            var instance = _behavior.InstanceMode switch
            {
                InstanceContextMode.PerCall => NewInstance(perCall: true),
                InstanceContextMode.Single => _single,
                _ => InstanceOf(invoked.SessionId),
            };
            instance.Forward(invoked);
        });
        Receive<SessionEnded>(ended =>
        {
            End(ended.SessionId);
            foreach (var (session, ids) in _sessionActors)
                if (ids.Remove(ended.SessionId) && ids.Count == 0)
                {
                    Context.Unwatch(session);
                    _sessionActors.Remove(session);
                    break;
                }
        });
        // An instance that ends after an unhandled exception: forgotten before its caller hears, so that the session's
        // next call gets a new instance; calls it was already sent come back here (ServiceInstanceActor).
        Receive<ServiceInstanceActor.Ending>(_ =>
        {
            Forget(Sender);
            Context.Unwatch(Sender);
            Sender.Tell(ServiceInstanceActor.Forgotten.Instance);
        });
        Receive<Terminated>(t =>
        {
            // A session actor: its sessions end (a late call's instance included).
            if (_sessionActors.Remove(t.ActorRef, out var ids))
            {
                foreach (var id in ids) End(id);
                return;
            }
            // An instance that failed (a fault of ours, see SupervisorStrategy): its session's next call gets a new one.
            Forget(t.ActorRef);
        });
    }

    private void Forget(IActorRef instance)
    {
        foreach (var (id, held) in _sessions)
            if (held.Equals(instance))
            {
                _sessions.Remove(id);
                return;
            }
    }

    private void WatchSession(IActorRef session, string sessionId)
    {
        if (session.IsNobody()) return;
        if (!_sessionActors.TryGetValue(session, out var ids))
        {
            _sessionActors[session] = ids = new HashSet<string>(StringComparer.Ordinal);
            Context.Watch(session);
        }
        ids.Add(sessionId);
    }

    private void End(string sessionId)
    {
        if (_sessions.Remove(sessionId, out var instance))
        {
            Context.Unwatch(instance);
            Context.Stop(instance);
        }
        _callbacks?.End(sessionId);
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
