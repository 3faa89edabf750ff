using System.Net;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Interop;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Router.Cluster;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Registration;
using AkkaPortShare.Router.Tests.TestSupport;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Registration;

/// <summary>Several workers for one address (share-addresses): who may join, where connections go, who leaves.</summary>
public sealed partial class RegistryActorSpec
{
    private const string Shared = "net.tcp://+:8808/shared/";

    private static async Task<T> RegisterSharedAsync<T>(IActorRef registry, TestProbe worker, string address, WorkerEndpoint endpoint,
        bool shared = true)
    {
        registry.Tell(new Register(address, endpoint, Secret, Shared: shared), worker.Ref);
        return await AnswerAsync<T>(worker);
    }

    private async Task<int> ResolvedPidAsync(IActorRef registry, string via = "net.tcp://localhost:8808/shared/svc") =>
        Assert.IsType<RouteFound>(await ResolveAsync(registry, via)).Worker.ProcessId;

    [Fact]
    public async Task RegistryActor_must_let_workers_that_all_share_an_address_hold_it_together_and_spread_its_connections()
    {
        var registry = StartRegistry();
        await RegisterSharedAsync<Registered>(registry, CreateTestProbe(), Shared, RelayOnly(101));

        await RegisterSharedAsync<Registered>(registry, CreateTestProbe(), Shared, RelayOnly(202));

        Assert.Equal([101, 202], (await RegistrationsAsync(registry)).Select(e => e.ProcessId).Order());
        var pids = new List<int>();
        for (var i = 0; i < 6; i++) pids.Add(await ResolvedPidAsync(registry));
        // No reports: each connection routed counts, so the least loaded alternates.
        Assert.Equal(3, pids.Count(p => p == 101));
        Assert.Equal(3, pids.Count(p => p == 202));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task RegistryActor_must_refuse_a_second_worker_AddressAlreadyInUse_unless_both_share(bool firstShares, bool secondShares)
    {
        var registry = StartRegistry();
        await RegisterSharedAsync<Registered>(registry, CreateTestProbe(), Shared, RelayOnly(101), firstShares);

        var refused = await RegisterSharedAsync<RegistrationRefused>(registry, CreateTestProbe(), Shared, RelayOnly(202), secondShares);

        Assert.Equal(RefusalReason.AddressAlreadyInUse, refused.Reason);
        Assert.Contains("101", refused.Message);
        Assert.Equal(101, Assert.Single(await RegistrationsAsync(registry)).ProcessId);
        Assert.Equal(101, await ResolvedPidAsync(registry));
    }

    [Fact]
    public async Task RegistryActor_must_route_to_the_worker_holding_the_fewest_connections_by_its_reports()
    {
        var registry = StartRegistry();
        var busy = CreateTestProbe();
        await RegisterSharedAsync<Registered>(registry, busy, Shared, RelayOnly(101));
        await RegisterSharedAsync<Registered>(registry, CreateTestProbe(), Shared, RelayOnly(202));

        registry.Tell(new ConnectionLoad(5, Secret), busy.Ref);

        // 202 holds none: the next five go there (its count grows with each), then the two are even.
        for (var i = 0; i < 5; i++) Assert.Equal(202, await ResolvedPidAsync(registry));
        var next = new[] { await ResolvedPidAsync(registry), await ResolvedPidAsync(registry) };
        Assert.Contains(101, next);
    }

    [Fact]
    public async Task RegistryActor_must_ignore_a_connection_count_from_a_worker_it_has_not_admitted()
    {
        var registry = StartRegistry();
        await RegisterSharedAsync<Registered>(registry, CreateTestProbe(), Shared, RelayOnly(101));
        await RegisterSharedAsync<Registered>(registry, CreateTestProbe(), Shared, RelayOnly(202));

        registry.Tell(new ConnectionLoad(1000, Secret), CreateTestProbe().Ref); // a stranger
        registry.Tell(new ConnectionLoad(1000, "wrong secret"), TestActor);

        var pids = new[] { await ResolvedPidAsync(registry), await ResolvedPidAsync(registry) };
        Assert.Equal([101, 202], pids.Order());
    }

    [Fact]
    public async Task RegistryActor_must_stop_routing_to_a_sharing_worker_at_once_when_it_unregisters_or_dies()
    {
        var registry = StartRegistry();
        var leaving = CreateTestProbe();
        var dying = CreateTestProbe();
        await RegisterSharedAsync<Registered>(registry, leaving, Shared, RelayOnly(101));
        await RegisterSharedAsync<Registered>(registry, dying, Shared, RelayOnly(202));
        await RegisterSharedAsync<Registered>(registry, CreateTestProbe(), Shared, RelayOnly(303));

        registry.Tell(new Unregister(Shared, Secret), leaving.Ref);
        await leaving.ExpectMsgAsync<Unregistered>();
        for (var i = 0; i < 4; i++) Assert.NotEqual(101, await ResolvedPidAsync(registry));

        Sys.Stop(dying.Ref);
        await AwaitAssertAsync(async () => Assert.Single(await RegistrationsAsync(registry)), TimeSpan.FromSeconds(3));
        for (var i = 0; i < 4; i++) Assert.Equal(303, await ResolvedPidAsync(registry));
    }

    [Fact]
    public async Task RegistryActor_must_publish_every_holder_so_the_accept_loops_spread_connections_as_it_does()
    {
        Assert.True(UnixHandover.IsSupported, "these specs run on Linux");
        var registry = StartRegistry();
        var first = WorkerChannel();
        var second = WorkerChannel();
        await RegisterSharedWithChannelAsync(registry, CreateTestProbe(), first, Shared);
        await RegisterSharedWithChannelAsync(registry, CreateTestProbe(), second, Shared);

        var snapshot = RouteSnapshots.Get(Sys).Current;
        var gateways = new List<IActorRef>();
        for (var i = 0; i < 4; i++)
        {
            Assert.True(snapshot.TryMatch("net.tcp://localhost:8808/shared/svc", SharedPort, out var target));
            gateways.Add(target!.Gateway!);
        }
        Assert.Equal(2, gateways.Distinct().Count());
        Assert.Equal(2, gateways.Count(g => g.Equals(gateways[0])));
    }

    [Fact]
    public async Task RegistryActor_must_pass_a_connection_undelivered_to_a_dead_worker_to_the_listener_for_another_holder()
    {
        var registry = StartRegistry();
        var listener = CreateTestProbe("listener");
        registry.Tell(ListenerReady.Instance, listener.Ref);
        // An Exact host: the via's host and port decide, whatever the loopback pair's local port is.
        await RegisterSharedAsync<Registered>(registry, CreateTestProbe(), "net.tcp://localhost:8808/shared/", RelayOnly(202));
        var (server, client) = await Loopback.ConnectedPairAsync();
        _disposables.Add(server);
        _disposables.Add(client);
        var preamble = FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/shared/svc");

        registry.Tell(new Undelivered(new HandOver(server, preamble, "net.tcp://localhost:8808/shared/svc"), "its channel closed"));

        var reroute = await listener.ExpectMsgAsync<Reroute>();
        Assert.Same(server, reroute.Socket);
        Assert.Equal(preamble, reroute.AlreadyRead);
        Assert.True(Loopback.IsOpenAndSilent(client), "the connection goes on to another worker, unanswered here");
    }

    [Fact]
    public async Task RegistryActor_must_answer_ConnectionDispatchFailed_for_an_undelivered_connection_no_worker_holds_now()
    {
        var registry = StartRegistry();
        registry.Tell(ListenerReady.Instance, CreateTestProbe("listener").Ref);
        var (server, client) = await Loopback.ConnectedPairAsync();
        _disposables.Add(server);
        _disposables.Add(client);
        var via = "net.tcp://localhost:8808/gone/";

        registry.Tell(new Undelivered(new HandOver(server, FramingWriter.Preamble(FramingMode.Duplex, via), via), "its channel closed"));

        var fault = FramingWriter.Fault(FramingFaults.ConnectionDispatchFailed);
        Assert.Equal(fault, await Loopback.ReadExactlyAsync(client, fault.Length));
    }

    [Fact]
    public void RouterSettings_must_read_shared_address_balancing_with_least_connections_by_default()
    {
        Assert.Equal(SharedAddressBalancing.LeastConnections, _settings.SharedAddressBalancing);
        var roundRobin = RouterSettings.Create(Akka.Configuration.ConfigurationFactory.ParseString(
            "akka-port-share.router.shared-address-balancing = round-robin").WithFallback(Sys.Settings.Config));
        Assert.Equal(SharedAddressBalancing.RoundRobin, roundRobin.SharedAddressBalancing);
    }

    [Fact]
    public async Task RegistryActor_in_a_cluster_must_claim_a_shared_address_once_and_release_it_with_its_last_worker()
    {
        var cluster = CreateTestProbe("cluster");
        var registry = Sys.ActorOf(RegistryActor.Props(_settings, Sys.ActorOf(FaultDrainActor.Props(_settings)),
            cluster: _ => Props.Create(() => new ClusterStandIn(cluster.Ref))));
        var first = CreateTestProbe();
        var second = CreateTestProbe();

        first.Send(registry, new Register(Shared, RelayOnly(101), Secret, Shared: true));
        Assert.Equal(Shared, (await cluster.ExpectMsgAsync<ClusterRegistryProtocol.Claim>()).BaseAddress);
        // While the cluster decides, a second worker does not join (nor claim again); it registers again later.
        second.Send(registry, new Register(Shared, RelayOnly(202), Secret, Shared: true));
        await second.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        await cluster.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));

        registry.Tell(new ClusterRegistryProtocol.ClaimGranted(Shared));
        await first.ExpectMsgAsync<Registered>();
        await RegisterSharedAsync<Registered>(registry, second, Shared, RelayOnly(202));
        // No claim (the router holds the address already): the cluster learns this router's holders.
        Assert.Equal(2, (await cluster.ExpectMsgAsync<ClusterRegistryProtocol.LocalHolders>()).Holders.Count);
        await cluster.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        Assert.Equal(2, (await RegistrationsAsync(registry)).Count);

        second.Send(registry, new Unregister(Shared, Secret));
        await second.ExpectMsgAsync<Unregistered>();
        // Still held by the first: not released, its holders follow.
        Assert.Single((await cluster.ExpectMsgAsync<ClusterRegistryProtocol.LocalHolders>()).Holders);
        await cluster.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        first.Send(registry, new Unregister(Shared, Secret));
        await first.ExpectMsgAsync<Unregistered>();
        Assert.Equal([Shared], (await cluster.ExpectMsgAsync<ClusterRegistryProtocol.Released>()).BaseAddresses);
    }

    private async Task RegisterSharedWithChannelAsync(IActorRef registry, TestProbe worker, FakeWorkerChannel channel, string address,
        int? dataPort = null)
    {
        var endpoint = WithHandover(channel.Path) is var e && dataPort is { } port ? e with { DataPort = port } : WithHandover(channel.Path);
        registry.Tell(new Register(address, endpoint, Secret, Shared: true), worker.Ref);
        await worker.ExpectMsgAsync<AdmissionStarted>();
        await channel.AcceptTokenAsync();
        registry.Tell(new Register(address, endpoint, Secret, channel.Token, Shared: true), worker.Ref);
        await AnswerAsync<Registered>(worker);
    }
}

/// <summary>Stands in for the cluster registry: whatever the registry tells it goes to a probe.</summary>
internal sealed class ClusterStandIn : ReceiveActor
{
    public ClusterStandIn(IActorRef probe) => ReceiveAny(m => probe.Forward(m));
}
