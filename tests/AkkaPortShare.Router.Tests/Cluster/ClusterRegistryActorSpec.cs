using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Remote;
using Akka.Configuration;
using AkkaPortShare.Contracts.Cluster;
using Akka.TestKit;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Router.Cluster;
using AkkaPortShare.Router.Configuration;
using static AkkaPortShare.Router.Cluster.ClusterRegistryProtocol;

namespace AkkaPortShare.Router.Tests.Cluster;

/// <summary>
/// The cluster registry of two routers (two actor systems in one cluster, on loopback), their registries probes:
/// claims racing for one address get exactly one grant, and the other router routes to the winner; a release and
/// a router leaving the cluster take the address off the other router.
/// </summary>
public sealed class ClusterRegistryActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        akka.cluster.distributed-data.notify-subscribers-interval = 50ms
        akka.loglevel = WARNING
        akka.cluster.roles = [router]
        akka.cluster.distributed-data.role = router
        """;

    private static readonly WorkerEndpoint WorkerA = new(101, "host-a", null, "10.0.0.1", 9001);
    private static readonly WorkerEndpoint WorkerB = new(202, "host-b", null, "10.0.0.2", 9002);

    private readonly ActorSystem _other;
    private readonly PortShareClusterSettings _settings;

    public ClusterRegistryActorSpec() : base(Config, "ClusterRegistryActorSpec")
    {
        _other = ActorSystem.Create("ClusterRegistryActorSpec", ConfigurationFactory.ParseString(Config));
        _settings = PortShareClusterSettings.Create(ConfigurationFactory.ParseString("akka-port-share.cluster.claim-timeout = 10s"));
        var seed = Akka.Cluster.Cluster.Get(Sys).SelfAddress;
        Akka.Cluster.Cluster.Get(Sys).Join(seed);
        Akka.Cluster.Cluster.Get(_other).Join(seed);
        AwaitCondition(() => new[] { Sys, _other }.All(s =>
            Akka.Cluster.Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == 2), TimeSpan.FromSeconds(20));
    }

    protected override void AfterAll()
    {
        _other.Terminate().Wait(TimeSpan.FromSeconds(10));
        base.AfterAll();
    }

    [Fact]
    public void ClusterRegistryActor_must_grant_one_of_two_racing_claims_and_route_the_other_router_to_the_winner()
    {
        var (registryA, a) = Start(Sys);
        var (registryB, b) = Start(_other);
        for (var round = 0; round < 5; round++)
        {
            var address = $"net.tcp://+:8808/race{round}/";
            a.Tell(new Claim(address, WorkerA));
            b.Tell(new Claim(address, WorkerB));
            var answerA = registryA.FishForMessage(m => m is ClaimGranted or ClaimRefused, TimeSpan.FromSeconds(10));
            var answerB = registryB.FishForMessage(m => m is ClaimGranted or ClaimRefused, TimeSpan.FromSeconds(10));
            Assert.Single(new[] { answerA, answerB }, m => m is ClaimGranted);
            var (loser, winner) = answerA is ClaimGranted ? (registryB, WorkerA) : (registryA, WorkerB);
            var refused = Assert.IsType<ClaimRefused>(answerA is ClaimGranted ? answerB : answerA);
            Assert.Equal(RegistryProtocol.RefusalReason.AddressAlreadyInUse, refused.Reason);
            Assert.Equal(address, refused.BaseAddress);
            // The losing router routes the address to the winner's worker (relay).
            var remote = loser.FishForMessage<RemoteRegistered>(m => m.BaseAddress == address, TimeSpan.FromSeconds(10));
            Assert.Equal(winner, remote.Worker);
        }
    }

    [Fact]
    public void ClusterRegistryActor_must_take_an_address_off_the_other_router_when_its_owner_releases_it_or_leaves()
    {
        var (registryA, a) = Start(Sys);
        var (registryB, b) = Start(_other);
        b.Tell(new Claim("net.tcp://+:8808/one/", WorkerB));
        b.Tell(new Claim("net.tcp://+:8808/two/", WorkerB));
        registryB.FishForMessage(m => m is ClaimGranted { BaseAddress: "net.tcp://+:8808/one/" }, TimeSpan.FromSeconds(10));
        // In either order.
        var seen = new HashSet<string>();
        registryA.FishForMessage(m => m is RemoteRegistered r && seen.Add(r.BaseAddress) && seen.Count == 2, TimeSpan.FromSeconds(10));
        Assert.Equal(["net.tcp://+:8808/one/", "net.tcp://+:8808/two/"], seen.Order());

        b.Tell(new Released(["net.tcp://+:8808/one/"]));
        registryA.FishForMessage(m => m is RemoteUnregistered { BaseAddress: "net.tcp://+:8808/one/" }, TimeSpan.FromSeconds(10));
        // Free again: the other router's worker may have it now.
        a.Tell(new Claim("net.tcp://+:8808/one/", WorkerA));
        registryA.FishForMessage(m => m is ClaimGranted { BaseAddress: "net.tcp://+:8808/one/" }, TimeSpan.FromSeconds(10));

        // Router B leaves the cluster: its remaining address leaves router A.
        Akka.Cluster.Cluster.Get(_other).Leave(Akka.Cluster.Cluster.Get(_other).SelfAddress);
        registryA.FishForMessage(m => m is RemoteUnregistered { BaseAddress: "net.tcp://+:8808/two/" }, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void ClusterRegistryActor_must_give_the_other_router_a_holders_reliable_session_key_but_not_its_handover_path()
    {
        var (registryA, a) = Start(Sys);
        var (registryB, _) = Start(_other);
        const string address = "net.tcp://+:8808/keyed/";
        const string path = "/run/a/worker-101-00000000000000000000000000000101.sock";
        a.Tell(new Claim(address, WorkerA with { HandoverPath = path }, Shared: true));
        registryA.FishForMessage(m => m is ClaimGranted { BaseAddress: address }, TimeSpan.FromSeconds(10));

        var relayed = registryB.FishForMessage<RemoteRegistered>(m => m.BaseAddress == address, TimeSpan.FromSeconds(10));
        Assert.Equal(SessionRouteKey.ForWorker(path), relayed.SessionKey);
        Assert.Null(relayed.Worker.HandoverPath); // the path stays on its host
        // A holder without a hand-over socket has no key.
        a.Tell(new Claim("net.tcp://+:8808/unkeyed/", WorkerA));
        Assert.Null(registryB.FishForMessage<RemoteRegistered>(m => m.BaseAddress == "net.tcp://+:8808/unkeyed/", TimeSpan.FromSeconds(10)).SessionKey);
    }

    [Fact]
    public void ClusterRegistryActor_must_let_the_same_worker_move_to_another_router_in_one_step_but_refuse_any_other_worker()
    {
        var (registryA, a) = Start(Sys);
        var (registryB, b) = Start(_other);
        const string address = "net.tcp://+:8808/moving/";
        a.Tell(new Claim(address, WorkerA));
        registryA.FishForMessage(m => m is ClaimGranted { BaseAddress: address }, TimeSpan.FromSeconds(10));
        registryB.FishForMessage(m => m is RemoteRegistered { BaseAddress: address }, TimeSpan.FromSeconds(10));

        // Another worker is refused at once; the same worker (its router leaving, or it going back to its own
        // router) takes its address over in one step: router A forgets its registration and relays to B's.
        registryB.Send(b, new Claim(address, WorkerB)); // answered to its sender, the registry
        Assert.Equal(RegistryProtocol.RefusalReason.AddressAlreadyInUse,
            registryB.FishForMessage<ClaimRefused>(m => m.BaseAddress == address, TimeSpan.FromSeconds(10)).Reason);
        b.Tell(new Claim(address, WorkerA with { HandoverPath = "/run/elsewhere.sock" }));
        registryB.FishForMessage(m => m is ClaimGranted { BaseAddress: address }, TimeSpan.FromSeconds(10));
        var moved = registryA.FishForMessage<MovedAway>(m => m.BaseAddress == address, TimeSpan.FromSeconds(10));
        Assert.True(moved.Worker.SameProcessAs(WorkerA));
        var relayed = registryA.ExpectMsg<RemoteRegistered>(TimeSpan.FromSeconds(10)); // told right after MovedAway
        Assert.Equal((address, WorkerA.ProcessId), (relayed.BaseAddress, relayed.Worker.ProcessId));
        // Nothing was released: the address stays B's worker's on A.
        registryA.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void ClusterRegistryActor_must_let_workers_of_two_routers_share_an_address_when_both_ask_and_refuse_one_that_does_not()
    {
        var (registryA, a) = Start(Sys);
        var (registryB, b) = Start(_other);
        const string address = "net.tcp://+:8808/shared/";
        var workerC = new WorkerEndpoint(303, "host-c", null, "10.0.0.3", 9003);

        // Both share, racing: both granted, and each router relays to the other's holder.
        a.Tell(new Claim(address, WorkerA, Shared: true));
        b.Tell(new Claim(address, WorkerB, Shared: true));
        var atA = GrantedAndRelayed(registryA, address);
        var atB = GrantedAndRelayed(registryB, address);
        Assert.Equal((WorkerB, true), (atA.Worker, atA.Shared));
        Assert.Equal((WorkerA, true), (atB.Worker, atB.Shared));

        // A third worker that does not share is refused, through either router.
        registryA.Send(a, new Claim(address, workerC));
        Assert.Equal(RegistryProtocol.RefusalReason.AddressAlreadyInUse,
            registryA.FishForMessage<ClaimRefused>(m => m.BaseAddress == address, TimeSpan.FromSeconds(10)).Reason);

        // Another worker of B joins (no claim: B holds the address): A relays to it too.
        b.Tell(new LocalHolders(address, [new LocalHolder(WorkerB, ""), new LocalHolder(workerC, "")]));
        Assert.Equal(workerC, registryA.FishForMessage<RemoteRegistered>(m => m.BaseAddress == address, TimeSpan.FromSeconds(10)).Worker);

        // B lets go (its workers drained and left): both of its holders leave A, whose own worker keeps the address.
        b.Tell(new Released([address]));
        var gone = new HashSet<string?>();
        registryA.FishForMessage(m => m is RemoteUnregistered { BaseAddress: address } r && gone.Add(r.Key) && gone.Count == 2, TimeSpan.FromSeconds(10));
        registryA.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void ClusterRegistryActor_must_refuse_a_worker_that_shares_an_address_held_by_one_that_does_not()
    {
        var (registryA, a) = Start(Sys);
        var (registryB, b) = Start(_other);
        const string address = "net.tcp://+:8808/sole/";
        a.Tell(new Claim(address, WorkerA));
        registryA.FishForMessage(m => m is ClaimGranted { BaseAddress: address }, TimeSpan.FromSeconds(10));
        registryB.FishForMessage(m => m is RemoteRegistered { BaseAddress: address }, TimeSpan.FromSeconds(10));
        registryB.Send(b, new Claim(address, WorkerB, Shared: true));
        Assert.Equal(RegistryProtocol.RefusalReason.AddressAlreadyInUse,
            registryB.FishForMessage<ClaimRefused>(m => m.BaseAddress == address, TimeSpan.FromSeconds(10)).Reason);
    }

    [Fact]
    public void ClusterRegistryActor_must_stop_routing_to_a_worker_member_whose_association_closed_only_while_its_data_endpoint_does_not_answer()
    {
        // A worker member (role worker) whose data endpoint is a real listener here.
        using var worker = JoinWorkerMember();
        var node = Akka.Cluster.Cluster.Get(worker).SelfAddress;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var endpoint = new WorkerEndpoint(303, "host-w", null, "127.0.0.1", port);

        var (registryA, a) = Start(Sys);
        var (registryB, _) = Start(_other);
        const string address = "net.tcp://+:8808/member/";
        a.Tell(new Claim(address, endpoint, node.ToString()));
        registryA.FishForMessage(m => m is ClaimGranted { BaseAddress: address }, TimeSpan.FromSeconds(10));
        registryB.FishForMessage(m => m is RemoteRegistered { BaseAddress: address } r && r.WorkerNode == node.ToString(), TimeSpan.FromSeconds(10));

        // The association closes but the worker answers (Akka.Remote replaced it, or a link dropped and came back):
        // nothing changes.
        Disassociated(node, Sys, _other);
        registryA.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        registryB.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        // Its process is gone (nothing listens): every router that lost the association stops routing to it.
        listener.Stop();
        Disassociated(node, Sys, _other);
        Assert.Equal(node, registryA.FishForMessage<WorkerNodeSilent>(_ => true, TimeSpan.FromSeconds(5)).Node);
        Assert.Equal(node, registryB.FishForMessage<WorkerNodeSilent>(_ => true, TimeSpan.FromSeconds(5)).Node);

        // It answers again while still a reachable member: routed again on both, without being told.
        var again = new TcpListener(IPAddress.Loopback, port);
        again.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        again.Start();
        try
        {
            Assert.Equal(node, registryA.FishForMessage<WorkerNodeAnswers>(_ => true, TimeSpan.FromSeconds(5)).Node);
            Assert.Equal(node, registryB.FishForMessage<WorkerNodeAnswers>(_ => true, TimeSpan.FromSeconds(5)).Node);
        }
        finally
        {
            again.Stop();
        }
    }

    [Fact]
    public void ClusterRegistryActor_must_route_another_routers_worker_member_again_once_it_is_reachable_again()
    {
        using var worker = JoinWorkerMember();
        var node = Akka.Cluster.Cluster.Get(worker).SelfAddress;
        var endpoint = new WorkerEndpoint(404, "host-w", null, "127.0.0.1", 9004);
        var (registryA, a) = Start(Sys);
        var (registryB, b) = Start(_other);
        const string address = "net.tcp://+:8808/flapping/";
        a.Tell(new Claim(address, endpoint, node.ToString()));
        registryA.FishForMessage(m => m is ClaimGranted { BaseAddress: address }, TimeSpan.FromSeconds(10));
        registryB.FishForMessage(m => m is RemoteRegistered { BaseAddress: address }, TimeSpan.FromSeconds(10));

        // B's failure detector marks the worker unreachable for a moment (the events as the cluster publishes them;
        // A, its worker's router, still sees it): B stops routing to it, and routes to it again once it is back.
        var member = Akka.Cluster.Cluster.Get(_other).State.Members.Single(m => m.Address.Equals(node));
        b.Tell(new ClusterEvent.UnreachableMember(member));
        registryB.FishForMessage(m => m is RemoteUnregistered { BaseAddress: address }, TimeSpan.FromSeconds(5));
        b.Tell(new ClusterEvent.ReachableMember(member));
        var again = registryB.FishForMessage<RemoteRegistered>(r => r.BaseAddress == address, TimeSpan.FromSeconds(5));
        Assert.Equal((endpoint, node.ToString()), (again.Worker, again.WorkerNode));
    }

    // A third actor system, role worker, Up in the routers' cluster.
    private ActorSystem JoinWorkerMember()
    {
        var worker = ActorSystem.Create("ClusterRegistryActorSpec", ConfigurationFactory.ParseString(
            "akka.cluster.roles = [worker]").WithFallback(ConfigurationFactory.ParseString(Config)));
        Akka.Cluster.Cluster.Get(worker).Join(Akka.Cluster.Cluster.Get(Sys).SelfAddress);
        AwaitCondition(() => new[] { Sys, _other }.All(s =>
            Akka.Cluster.Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == 3), TimeSpan.FromSeconds(20));
        return worker;
    }

    // Both arrive, in either order: the grant of this router's claim, and the other router's holder to relay to.
    private static RemoteRegistered GrantedAndRelayed(TestProbe registry, string address)
    {
        var granted = false;
        RemoteRegistered? relayed = null;
        registry.FishForMessage(m =>
        {
            if (m is ClaimGranted g && g.BaseAddress == address) granted = true;
            if (m is RemoteRegistered r && r.BaseAddress == address) relayed = r;
            return granted && relayed is not null;
        }, TimeSpan.FromSeconds(10));
        return relayed!;
    }

    // What Akka.Remote publishes when an association with the node closes (here without closing one).
    private static void Disassociated(Address node, params ActorSystem[] routers)
    {
        foreach (var router in routers)
            router.EventStream.Publish(new DisassociatedEvent(Akka.Cluster.Cluster.Get(router).SelfAddress, node, inbound: false));
    }

    private (TestProbe Registry, IActorRef ClusterRegistry) Start(ActorSystem system)
    {
        var registry = CreateTestProbe(system);
        return (registry, system.ActorOf(ClusterRegistryActor.Props(_settings, registry.Ref)));
    }
}
