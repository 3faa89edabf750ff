using Akka.Actor;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Router.Cluster;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Registration;
using static AkkaPortShare.Router.Cluster.ClusterRegistryProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Registration;

/// <summary>The registry in a cluster of routers: other routers' workers, and worker members that went silent.</summary>
public sealed partial class RegistryActorSpec
{
    private static readonly Address NodeM = Address.Parse("akka.tcp://akkaportshare@10.0.0.7:4001");
    private static readonly Address NodeN = Address.Parse("akka.tcp://akkaportshare@10.0.0.8:4002");

    [Fact]
    public async Task RegistryActor_in_a_cluster_must_route_nothing_to_a_silent_worker_node_until_it_answers_again()
    {
        var cluster = CreateTestProbe("cluster");
        var registry = Sys.ActorOf(RegistryActor.Props(_settings, Sys.ActorOf(FaultDrainActor.Props(_settings)),
            cluster: _ => Props.Create(() => new ClusterStandIn(cluster.Ref))));
        // Other routers' workers: /a/ on node N, /a/b/ on node M (nested: /a/b/c goes to M while M is routed).
        registry.Tell(new RemoteRegistered("net.tcp://+:8808/a/", RelayOnly(101), "router-b", NodeN.ToString()));
        registry.Tell(new RemoteRegistered("net.tcp://+:8808/a/b/", RelayOnly(202), "router-b", NodeM.ToString()));
        const string deep = "net.tcp://localhost:8808/a/b/c";
        Assert.Equal(202, await AwaitRoutedPidAsync(registry, deep));

        registry.Tell(new WorkerNodeSilent(NodeM, "spec"));
        // Neither the published routes nor the registry send /a/b/c to M now: the shorter registration takes it.
        Assert.Equal(101, await AwaitRoutedPidAsync(registry, deep, 101));
        Assert.True(RouteSnapshots.Get(Sys).Current.TryMatch(deep, SharedPort, out var target));
        Assert.Equal(101, target!.Worker.ProcessId);
        // Its registrations stay: only routing waits.
        Assert.Equal(2, (await RegistrationsAsync(registry)).Count);

        registry.Tell(new WorkerNodeAnswers(NodeM, "spec"));
        Assert.Equal(202, await AwaitRoutedPidAsync(registry, deep, 202));
        Assert.True(RouteSnapshots.Get(Sys).Current.TryMatch(deep, SharedPort, out target));
        Assert.Equal(202, target!.Worker.ProcessId);

        // Silent again, then unreachable: forgotten (the failure detector's removal follows as RemoteUnregistered),
        // so that a worker registering later from the same address is routed.
        registry.Tell(new WorkerNodeSilent(NodeM, "spec"));
        Assert.Equal(101, await AwaitRoutedPidAsync(registry, deep, 101));
        registry.Tell(new WorkerNodeUnreachable(NodeM));
        registry.Tell(new RemoteUnregistered("net.tcp://+:8808/a/b/"));
        registry.Tell(new RemoteRegistered("net.tcp://+:8808/a/b/", RelayOnly(303), "router-b", NodeM.ToString()));
        Assert.Equal(303, await AwaitRoutedPidAsync(registry, deep, 303));
    }

    // The pid a Resolve of via is routed to, once it is the expected one (messages to the registry are in order,
    // so the first answer already reflects them; the loop only bounds a wrong answer's wait).
    private async Task<int> AwaitRoutedPidAsync(IActorRef registry, string via, int? expected = null)
    {
        var pid = -1;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            pid = await ResolveAsync(registry, via) is RouteFound found ? found.Worker.ProcessId : -1;
            if (expected is null || pid == expected) return pid;
            await Task.Delay(50);
        }
        return pid;
    }
}
