using Akka.Actor;

namespace AkkaPortShare.TestSupport.Actors;

/// <summary>
/// Stands in for an implementation actor that a service actor creates itself from Props: forwards everything to
/// a probe, keeping the sender so the probe can answer.
/// </summary>
public sealed class Forwarder : ReceiveActor
{
    public Forwarder(IActorRef target) => ReceiveAny(m => target.Forward(m));

    public static Props Props(IActorRef target) => Akka.Actor.Props.Create(() => new Forwarder(target));
}
