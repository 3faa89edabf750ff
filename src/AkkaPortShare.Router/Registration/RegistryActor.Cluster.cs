using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Protocol.Addressing;
using static AkkaPortShare.Router.Cluster.ClusterRegistryProtocol;

namespace AkkaPortShare.Router.Registration;

// The registry's side of a cluster of routers (ClusterRegistryActor): a new address of a worker of this router is
// answered only once the cluster granted it, addresses let go are released, and other routers' registrations sit in
// the same table as workers reached by relay, so routing (TryRoute) treats them alike. Without a cluster, nothing
// here runs.
internal sealed partial class RegistryActor
{
    private readonly Func<IActorRef, Props>? _clusterProps;
    private IActorRef? _cluster;

    /// <summary>Addresses of this router's workers waiting for the cluster's decision, with the address as asked.</summary>
    private readonly Dictionary<BaseAddress, string> _claims = new();

    /// <summary>Other routers' registrations in the table: their placeholder owners (no actor, no channel: relayed).</summary>
    private readonly Dictionary<BaseAddress, RegisteredWorker> _remote = new();

    /// <summary>The cluster node of each placeholder whose worker is a cluster member.</summary>
    private readonly Dictionary<RegisteredWorker, Address> _remoteNodes = new();

    /// <summary>Worker members whose association closed and whose data endpoint does not answer: not routed to.</summary>
    private readonly HashSet<Address> _silentNodes = new();

    // A child, so that it exists before any Register is handled; watched, since the registry cannot go on without it
    // (its Terminated ends the registry, and the watchdog ends the router with 70).
    private void StartCluster()
    {
        if (_clusterProps is null) return;
        _cluster = Context.Watch(Context.ActorOf(_clusterProps(Self), "cluster-registry"));
    }

    private void ClusterRegistrations()
    {
        if (_clusterProps is null) return;
        Receive<Terminated>(t => t.ActorRef.Equals(_cluster), _ =>
        {
            _log.Error("The cluster registry stopped: this router can no longer share its registrations; it stops");
            Context.Stop(Self);
        });
        Receive<ClaimGranted>(OnClaimGranted);
        Receive<ClaimRefused>(OnClaimRefused);
        Receive<RemoteRegistered>(OnRemoteRegistered);
        Receive<WorkerNodeUnreachable>(OnWorkerNodeUnreachable);
        Receive<WorkerNodeSilent>(OnWorkerNodeSilent);
        Receive<WorkerNodeAnswers>(OnWorkerNodeAnswers);
        Receive<RemoteUnregistered>(r =>
        {
            var address = BaseAddress.Parse(r.BaseAddress);
            if (!_remote.Remove(address, out var placeholder)) return;
            _remoteNodes.Remove(placeholder);
            _state.Workers.Remove(address, placeholder);
            PublishRoutes();
            _log.Info("Unregistered {0} (a worker of another router)", address);
        });
    }

    /// <summary>True when the answer to the worker waits for the cluster (the address was just added).</summary>
    private bool ClaimInCluster(string requested, BaseAddress address, RegisteredWorker worker)
    {
        if (_cluster is null) return false;
        _claims[address] = requested;
        _log.Info("Claiming {0} in the cluster for worker {1}", address, worker.Describe());
        _cluster.Tell(new Claim(address.ToString(), worker.Endpoint, worker.ReplyTo.Path.Address.ToString()));
        return true;
    }

    private bool IsClaimPending(BaseAddress address) => _claims.ContainsKey(address);

    private void ReleaseInCluster(IReadOnlyList<BaseAddress> addresses)
    {
        if (_cluster is null || addresses.Count == 0) return;
        foreach (var address in addresses) _claims.Remove(address);
        _cluster.Tell(new Released(addresses.Select(a => a.ToString()).ToList()));
    }

    private RegisteredWorker? LocalOwner(BaseAddress address) =>
        _state.Workers.Entries.Where(e => e.Address.Equals(address) && !_remote.ContainsKey(e.Address))
            .Select(e => e.Owner).FirstOrDefault();

    // A worker of a router that left the cluster registers here: the placeholder that routed to it through that
    // router gives way to the worker itself (the same process: pid, host and data endpoint), whose claim the
    // cluster then grants once the old owner is gone.
    private void TakeOverFromRouterGone(BaseAddress address, RegisteredWorker worker)
    {
        if (!_remote.TryGetValue(address, out var placeholder)) return;
        if (!placeholder.Endpoint.SameProcessAs(worker.Endpoint)) return;
        _remote.Remove(address);
        _state.Workers.Remove(address, placeholder);
        _log.Info("Worker {0} moves {1} here from router it registered with", worker.Describe(), address);
    }

    // Akka.Cluster's failure detector lost a worker member: its workers registered here (relayed: a worker with a
    // hand-over channel is known by its channel) stop receiving connections now, their addresses leave every router,
    // and the node is downed, so that it cannot come back with registrations nobody holds any more (its process
    // exits, and its service manager starts it again: it registers afresh).
    private void OnWorkerNodeUnreachable(WorkerNodeUnreachable unreachable)
    {
        if (_silentNodes.Remove(unreachable.Node)) PublishRoutes();
        var workers = _state.Workers.Entries.Select(e => e.Owner).Distinct()
            .Where(w => w.Gateway is null && !_remote.ContainsValue(w) && w.ReplyTo.Path.Address.Equals(unreachable.Node)).ToList();
        if (workers.Count == 0) return;
        foreach (var worker in workers) RemoveWorker(worker, "its cluster node is unreachable (akka-port-share.cluster.failure-detection)");
        _log.Warning("Downing worker node {0}: unreachable, and its registrations are gone", unreachable.Node);
        Akka.Cluster.Cluster.Get(Context.System).Down(unreachable.Node);
    }

    private void OnClaimGranted(ClaimGranted granted)
    {
        var address = BaseAddress.Parse(granted.BaseAddress);
        if (!_claims.Remove(address, out var requested) || LocalOwner(address) is not { } worker)
        {
            // The worker went (or unregistered) while the cluster decided: the address is not this router's now.
            _cluster!.Tell(new Released([granted.BaseAddress]));
            return;
        }
        _log.Info("Registered {0} for worker {1} ({2}), granted by the cluster", address, worker.Describe(), worker.HandoverMode);
        _metrics.UriRegistered();
        PublishRoutes();
        RouteParked();
        worker.ReplyTo.Tell(new RegistryProtocol.Registered(requested, worker.HandoverMode));
    }

    private void OnClaimRefused(ClaimRefused refused)
    {
        var address = BaseAddress.Parse(refused.BaseAddress);
        if (!_claims.Remove(address, out var requested) || LocalOwner(address) is not { } worker) return;
        _state.Workers.Remove(address, worker);
        PublishRoutes();
        _log.Warning("Refused registration of {0} by worker {1} ({2}): {3}", requested, worker.Describe(), refused.Reason, refused.Message);
        worker.ReplyTo.Tell(new RegistryProtocol.RegistrationRefused(requested, refused.Reason, refused.Message));
    }

    private void OnRemoteRegistered(RemoteRegistered registered)
    {
        var address = BaseAddress.Parse(registered.BaseAddress);
        if (_remote.Remove(address, out var previous))
        {
            _remoteNodes.Remove(previous);
            _state.Workers.Remove(address, previous);
            PublishRoutes();
        }
        var placeholder = new RegisteredWorker(registered.Worker, ActorRefs.Nobody, null, false, null, null);
        if (_state.Workers.Add(address, placeholder, out var owner) != WorkerRegistrations.AddResult.Added)
        {
            // One of this router's workers has it until the cluster's refusal arrives; the winner is routed then.
            _log.Debug("{0} of router {1} waits: worker {2} of this router holds it until the cluster decides", address, registered.Router, owner?.Describe());
            return;
        }
        _remote[address] = placeholder;
        if (registered.WorkerNode.Length > 0 && Address.TryParse(registered.WorkerNode, out var node)) _remoteNodes[placeholder] = node;
        _log.Info("Registered {0} for worker pid {1} at {2}:{3} of router {4} (relayed)", address, registered.Worker.ProcessId,
            registered.Worker.DataHost, registered.Worker.DataPort, registered.Router);
        PublishRoutes();
        RouteParked();
    }

    // The cluster node a worker answers from, when it is relayed (a worker with a hand-over channel is known dead
    // by its channel's end of file, and fd-passed connections need no data endpoint).
    private Address? RelayedNodeOf(RegisteredWorker worker) =>
        _remoteNodes.TryGetValue(worker, out var node) ? node
        : worker.Gateway is null && !_remote.ContainsValue(worker) ? worker.ReplyTo.Path.Address : null;

    /// <summary>False for a worker on a node that went silent (WorkerNodeSilent): no new connection goes there.</summary>
    private bool IsRoutable(RegisteredWorker worker) =>
        _silentNodes.Count == 0 || RelayedNodeOf(worker) is not { } node || !_silentNodes.Contains(node);

    private List<BaseAddress> AddressesOn(Address node) =>
        _state.Workers.Entries.Where(e => RelayedNodeOf(e.Owner) is { } n && n.Equals(node)).Select(e => e.Address).Distinct().ToList();

    private void OnWorkerNodeSilent(WorkerNodeSilent silent)
    {
        if (!_silentNodes.Add(silent.Node)) return;
        PublishRoutes();
        var addresses = AddressesOn(silent.Node);
        _log.Warning("Not routing to worker node {0} while it does not answer ({1}): {2} address(es) {3}", silent.Node,
            silent.Reason, addresses.Count, string.Join(", ", addresses));
    }

    private void OnWorkerNodeAnswers(WorkerNodeAnswers answers)
    {
        if (!_silentNodes.Remove(answers.Node)) return;
        PublishRoutes();
        RouteParked();
        var addresses = AddressesOn(answers.Node);
        _log.Info("Routing to worker node {0} again ({1}): {2} address(es) {3}", answers.Node, answers.Reason,
            addresses.Count, string.Join(", ", addresses));
    }
}
