using Akka.Actor;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Handover;
using AkkaPortShare.Router.Tests.TestSupport;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Handover;

/// <summary>A socket that became a dead letter, on its own or inside a gateway's report, still gets its fault.</summary>
public sealed class UndeliveredHandoversActorSpec() : Akka.TestKit.Xunit2.TestKit("akka.actor.provider = local", "UndeliveredHandoversActorSpec")
{
    private sealed record Report(HandOver HandOver) : ICarriesHandOver;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UndeliveredHandoversActor_must_answer_ConnectionDispatchFailed_for_a_dead_lettered_hand_over(bool inside)
    {
        var settings = RouterSettings.Create(Sys);
        var undelivered = Sys.ActorOf(UndeliveredHandoversActor.Props(Sys.ActorOf(FaultDrainActor.Props(settings))));
        // It subscribes to dead letters before it handles any message: once it answers, it listens.
        await undelivered.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(3));
        var (server, client) = await Loopback.ConnectedPairAsync();
        using var _ = client;
        var handOver = new HandOver(server, [], "net.tcp://localhost/gone/");

        Sys.DeadLetters.Tell(inside ? new Report(handOver) : handOver, TestActor);

        var fault = FramingWriter.Fault(FramingFaults.ConnectionDispatchFailed);
        Assert.Equal(fault, await Loopback.ReadExactlyAsync(client, fault.Length));
    }
}
