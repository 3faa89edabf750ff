using Akka.Actor;

namespace AkkaPortShare.Router.Tests.TestSupport;

/// <summary>
/// Stands in for an actor's real parent: creates the child from <c>childProps</c> and forwards everything else it
/// receives (what the child tells <c>Context.Parent</c>) to a probe. <see cref="GetChild"/> returns the child.
/// </summary>
internal sealed class ProbeParent : ReceiveActor
{
    public sealed class GetChild
    {
        public static readonly GetChild Instance = new();
        private GetChild() { }
    }

    public ProbeParent(Props childProps, IActorRef probe)
    {
        var child = Context.ActorOf(childProps, "child");
        Receive<GetChild>(_ => Sender.Tell(child));
        ReceiveAny(m => probe.Forward(m));
    }

    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    public static Props Props(Props childProps, IActorRef probe) =>
        Akka.Actor.Props.Create(() => new ProbeParent(childProps, probe));
}
