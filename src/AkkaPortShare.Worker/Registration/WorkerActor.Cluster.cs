using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using AkkaPortShare.Contracts.Cluster;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Worker.Hosting;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Worker.WorkerProtocol;

namespace AkkaPortShare.Worker.Registration;

// A worker that is a member of the routers' cluster (role worker, WithPortShareCluster): it registers with its
// configured router while that router is a member, and with another router once it has left the cluster (killed and
// downed by the split-brain resolver, or stopped), so its addresses stay routed when its router is gone. When its
// configured router is back (a new process at the same address, Up in the cluster), it registers there again: the
// cluster moves the same worker process's addresses from the interim router in one step, so nothing is unrouted
// meanwhile, and its own host's router hands its connections over again instead of another router relaying them.
// (A worker that the cluster removes exits with 69: see WithPortShareCluster.) Without a cluster, nothing here runs.
internal sealed partial class WorkerActor
{
    private Akka.Cluster.Cluster? _cluster;

    /// <summary>The router it is configured to register with (its host's, usually): where it goes back to.</summary>
    private Address? _homeRouter;

    private void JoinAsClusterMember()
    {
        if (Context.System is not ExtendedActorSystem { Provider: ClusterActorRefProvider }) return;
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        if (!cluster.SelfRoles.Contains(PortShareClusterSettings.WorkerRole)) return;
        _cluster = cluster;
        _homeRouter = _routerAddress;
        cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved),
            typeof(ClusterEvent.MemberUp));
    }

    // In the constructor (an actor's handlers are set there); they only ever see events once PreStart subscribed.
    private void ReceiveClusterEvents()
    {
        Receive<ClusterEvent.MemberRemoved>(m => OnMemberRemoved(m.Member));
        Receive<ClusterEvent.MemberUp>(m => OnMemberUp(m.Member));
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    private void OnMemberRemoved(Member member)
    {
        if (!member.HasRole(PortShareClusterSettings.RouterRole) || !member.Address.Equals(_routerAddress)) return;
        var next = _cluster!.State.Members
            .Where(m => m.Status == MemberStatus.Up && m.HasRole(PortShareClusterSettings.RouterRole) && !m.Address.Equals(member.Address)
                && !_cluster.State.Unreachable.Contains(m))
            .Aggregate((Member?)null, (o, m) => o is null || m.IsOlderThan(o) ? m : o);
        if (next is null)
        {
            _log.Warning("Router {0} left the cluster and no other router is up: registering with it again when it returns", member.Address);
            return;
        }
        _log.Warning("Router {0} left the cluster: registering {1} address(es) with router {2}", member.Address,
            _state.Addresses.Count, next.Address);
        RegisterWith(next.Address, $"router {member.Address} left the cluster");
    }

    // Its configured router is back (a new incarnation at the same address): it goes home. Only from another
    // router it moved to; at start it is registering there already.
    private void OnMemberUp(Member member)
    {
        if (_homeRouter is null || !member.HasRole(PortShareClusterSettings.RouterRole) || !member.Address.Equals(_homeRouter)
            || _routerAddress.Equals(_homeRouter)) return;
        _log.Info("Router {0} is back in the cluster: registering {1} address(es) with it again (from router {2})", member.Address,
            _state.Addresses.Count, _routerAddress);
        RegisterWith(member.Address, $"router {member.Address} is back");
    }

    private void RegisterWith(Address router, string reason)
    {
        _registry = Context.ActorSelection(new RootActorPath(router) / "user" / RegistryName);
        _routerAddress = router;
        _channelToken = null; // the hand-over channel was the old router's
        foreach (var address in _state.Addresses.Values.Where(a => a.State is RegistrationState.Registered or RegistrationState.Pending))
            SetState(address.BaseAddress, RegistrationState.Pending, reason);
        _state = _state with { Backoff = _settings.RetryMinBackoff };
        SendPendingRegistrations();
    }
}
