using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Interop;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Handover;

/// <summary>
/// Catches connections that were routed to a worker whose gateway stopped before the hand-over reached it (the
/// worker died between the routing decision and the hand-over). Such a <see cref="HandOver"/> becomes a dead
/// letter, and with it the only reference to the client's socket: without this actor the client would wait
/// until the garbage collector closed the socket. It gives the connection to the registry (its parent), which
/// passes it to another worker of a shared address, or answers ConnectionDispatchFailed, as the Windows service
/// does when duplicating a socket into a worker fails. One that cannot even reach the registry is answered here.
/// </summary>
internal sealed class UndeliveredHandoversActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public static Props Props(IActorRef drains) => Akka.Actor.Props.Create(() => new UndeliveredHandoversActor(drains));

    public UndeliveredHandoversActor(IActorRef drains)
    {
        Receive<DeadLetter>(d => d.Message is HandOver or LanedHandOver, d =>
        {
            var handOver = d.Message as HandOver ?? ((ICarriesHandOver)d.Message).HandOver;
            Context.Parent.Tell(new Undelivered(handOver, "its hand-over channel closed before the connection reached it"));
        });
        Receive<DeadLetter>(d => d.Message is ICarriesHandOver, d =>
        {
            var handOver = ((ICarriesHandOver)d.Message).HandOver;
            _log.Warning("Could not pass {0} to a worker (its hand-over channel closed before the connection reached it): ConnectionDispatchFailed",
                handOver);
            drains.Tell(new DrainAfterFault(handOver.Socket, FramingFaults.ConnectionDispatchFailed, handOver.Via));
        });
        Receive<DeadLetter>(_ => { });
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(DeadLetter));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
