using Akka.Actor;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Handover;
using AkkaPortShare.Router.Tests.TestSupport;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Handover;

/// <summary>
/// A socket that became a dead letter still gets an answer: a hand-over goes to the registry (its parent), which
/// passes it to another worker of the address or faults it; one inside a gateway's report gets its fault here.
/// </summary>
public sealed class UndeliveredHandoversActorSpec() : Akka.TestKit.Xunit2.TestKit("akka.actor.provider = local", "UndeliveredHandoversActorSpec")
{
    private sealed record Report(HandOver HandOver) : ICarriesHandOver;

    private async Task<IActorRef> StartAsync(IActorRef registry)
    {
        var settings = RouterSettings.Create(Sys);
        var parent = Sys.ActorOf(ProbeParent.Props(
            UndeliveredHandoversActor.Props(Sys.ActorOf(FaultDrainActor.Props(settings))), registry));
        var undelivered = await parent.Ask<IActorRef>(ProbeParent.GetChild.Instance, TimeSpan.FromSeconds(3));
        // It subscribes to dead letters before it handles any message: once it answers, it listens.
        await undelivered.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(3));
        return undelivered;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UndeliveredHandoversActor_must_give_a_dead_lettered_hand_over_to_the_registry(bool laned)
    {
        var registry = CreateTestProbe();
        await StartAsync(registry.Ref);
        var (server, client) = await Loopback.ConnectedPairAsync();
        using var _ = client;
        using var __ = server;
        var handOver = new HandOver(server, [], "net.tcp://localhost/gone/");

        Sys.DeadLetters.Tell(laned ? new LanedHandOver(handOver) : handOver, TestActor);

        Assert.Same(handOver, (await registry.ExpectMsgAsync<Undelivered>()).HandOver);
        Assert.True(Loopback.IsOpenAndSilent(client), "the registry decides what the client gets");
    }

    [Fact]
    public async Task UndeliveredHandoversActor_must_answer_ConnectionDispatchFailed_for_a_dead_lettered_report()
    {
        await StartAsync(CreateTestProbe().Ref);
        var (server, client) = await Loopback.ConnectedPairAsync();
        using var _ = client;
        var handOver = new HandOver(server, [], "net.tcp://localhost/gone/");

        Sys.DeadLetters.Tell(new Report(handOver), TestActor);

        var fault = FramingWriter.Fault(FramingFaults.ConnectionDispatchFailed);
        Assert.Equal(fault, await Loopback.ReadExactlyAsync(client, fault.Length));
    }
}
