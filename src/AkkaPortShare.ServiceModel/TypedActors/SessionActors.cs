using Akka.Actor;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.TypedActors;

/// <summary>
/// The implementation actor of an endpoint served with <c>ServeActor&lt;TActor&gt;</c>: one child of the user's actor
/// per session (by the id SessionStarted, OperationInvoked and SessionEnded share, a reliable session's for a reliable
/// session), as WCF's PerSession instancing keeps one service instance per session. A child gets its session's
/// SessionStarted, calls and SessionEnded, and then a PoisonPill, so what it still has in its mailbox runs first.
/// The children are bounded by the endpoint's live sessions. A child that fails is restarted (Akka's default).
/// </summary>
internal sealed class SessionActors : ReceiveActor
{
    private readonly Props _instance;
    private readonly Dictionary<string, IActorRef> _sessions = new(StringComparer.Ordinal);
    private long _next;

    public static Props Props(Props instance) => Akka.Actor.Props.Create(() => new SessionActors(instance));

    public SessionActors(Props instance)
    {
        _instance = instance;
        Receive<SessionStarted>(started => InstanceOf(started.SessionId).Forward(started));
        Receive<OperationInvoked>(invoked => InstanceOf(invoked.SessionId).Forward(invoked));
        Receive<SessionEnded>(ended =>
        {
            if (!_sessions.Remove(ended.SessionId, out var instance)) return;
            instance.Forward(ended);
            instance.Tell(PoisonPill.Instance);
        });
        // A child that stopped itself: the session's next call gets a new one.
        Receive<Terminated>(t =>
        {
            foreach (var (id, instance) in _sessions)
                if (instance.Equals(t.ActorRef)) { _sessions.Remove(id); break; }
        });
    }

    private IActorRef InstanceOf(string sessionId)
    {
        if (_sessions.TryGetValue(sessionId, out var instance)) return instance;
        instance = Context.Watch(Context.ActorOf(_instance, $"session-{++_next}"));
        _sessions[sessionId] = instance;
        return instance;
    }
}
