using Akka.Actor;
using AkkaPortShare.Router.Cluster;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Registration;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Router.Cluster.ClusterRegistryProtocol;

namespace AkkaPortShare.Router.Tests.Registration;

/// <summary>An address shared by workers of several routers: this router's own first, the others' by relay.</summary>
public sealed partial class RegistryActorSpec
{
    [Fact]
    public async Task RegistryActor_in_a_cluster_must_route_a_shared_address_to_its_own_workers_first_and_to_other_routers_holders_when_it_has_none()
    {
        var cluster = CreateTestProbe("cluster");
        var registry = Sys.ActorOf(RegistryActor.Props(_settings, Sys.ActorOf(FaultDrainActor.Props(_settings)),
            cluster: _ => Props.Create(() => new ClusterStandIn(cluster.Ref))));
        const string via = "net.tcp://localhost:8808/shared/svc";
        // Router B's worker holds the address (shared): routed there by relay.
        registry.Tell(new RemoteRegistered(Shared, RelayOnly(901), "router-b", "", Shared: true, Key: Shared + "\nb1"));
        Assert.Equal(901, await AwaitRoutedPidAsync(registry, via, 901));

        // A worker of this router shares it too: it claims (the address is not this router's yet), and while the
        // cluster decides, B's worker keeps the connections.
        var own = CreateTestProbe();
        own.Send(registry, new Register(Shared, RelayOnly(101), Secret, Shared: true));
        var claim = await cluster.ExpectMsgAsync<Claim>();
        Assert.True(claim.Shared);
        Assert.Equal(901, await AwaitRoutedPidAsync(registry, via, 901));
        registry.Tell(new ClaimGranted(Shared));
        await own.ExpectMsgAsync<Registered>();
        // Granted: its own worker takes every new connection (no second router's hop), in the published routes too.
        for (var i = 0; i < 4; i++) Assert.Equal(101, await AwaitRoutedPidAsync(registry, via));
        Assert.True(RouteSnapshots.Get(Sys).Current.TryMatch(via, SharedPort, out var target));
        Assert.Equal(101, target!.Worker.ProcessId);

        // A second worker of this router joins: the cluster learns this router's holders.
        var second = CreateTestProbe();
        await RegisterSharedAsync<Registered>(registry, second, Shared, RelayOnly(202));
        var holders = await cluster.ExpectMsgAsync<LocalHolders>();
        Assert.Equal([101, 202], holders.Holders.Select(h => h.Worker.ProcessId).Order());

        // Both drain and leave (a rolling upgrade to B's worker): B's worker takes over at once.
        second.Send(registry, new Unregister(Shared, Secret));
        await second.ExpectMsgAsync<Unregistered>();
        Assert.Equal([101], (await cluster.ExpectMsgAsync<LocalHolders>()).Holders.Select(h => h.Worker.ProcessId));
        own.Send(registry, new Unregister(Shared, Secret));
        await own.ExpectMsgAsync<Unregistered>();
        Assert.Equal([Shared], (await cluster.ExpectMsgAsync<Released>()).BaseAddresses);
        Assert.Equal(901, await AwaitRoutedPidAsync(registry, via));
        Assert.True(RouteSnapshots.Get(Sys).Current.TryMatch(via, SharedPort, out target));
        Assert.Equal(901, target!.Worker.ProcessId);
    }
}
