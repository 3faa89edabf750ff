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

    /// <summary>
    /// Other routers' registrations in the table, by key (the address, or one key per holder of a shared one): their
    /// placeholder owners (no actor, no channel: relayed).
    /// </summary>
    private readonly Dictionary<string, (BaseAddress Address, RegisteredWorker Placeholder)> _remote = new();

    /// <summary>The placeholders of <see cref="_remote"/>, to tell them from this router's own workers.</summary>
    private readonly HashSet<RegisteredWorker> _placeholders = new();

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
        Receive<MovedAway>(OnMovedAway);
        Receive<WorkerNodeAnswers>(OnWorkerNodeAnswers);
        Receive<RemoteUnregistered>(r =>
        {
            if (!ForgetRemote(r.Key ?? r.BaseAddress, out var address)) return;
            PublishRoutes();
            _log.Info("Unregistered {0} (a worker of another router)", address);
        });
    }

    private bool ForgetRemote(string key, out BaseAddress? address)
    {
        address = null;
        if (!_remote.Remove(key, out var remote)) return false;
        address = remote.Address;
        _placeholders.Remove(remote.Placeholder);
        _remoteNodes.Remove(remote.Placeholder);
        _state.Workers.Remove(remote.Address, remote.Placeholder);
        return true;
    }

    private bool IsPlaceholder(RegisteredWorker worker) => _placeholders.Count > 0 && _placeholders.Contains(worker);

    /// <summary>How many of this router's own workers hold the address (other routers' placeholders aside).</summary>
    private int LocalHolderCount(BaseAddress address) =>
        _placeholders.Count == 0 ? _state.Workers.Holders(address).Count : _state.Workers.Holders(address).Count(h => !IsPlaceholder(h));

    /// <summary>True when the answer to the worker waits for the cluster (the address was just added).</summary>
    private bool ClaimInCluster(string requested, BaseAddress address, RegisteredWorker worker, bool shared)
    {
        if (_cluster is null) return false;
        _claims[address] = requested;
        _log.Info("Claiming {0} in the cluster for worker {1}", address, worker.Describe());
        _cluster.Tell(new Claim(address.ToString(), worker.Endpoint, worker.ReplyTo.Path.Address.ToString(), shared));
        return true;
    }

    // A shared address this router holds gained or lost one of its own workers: the cluster's holders follow.
    private void LocalHoldersChanged(IEnumerable<BaseAddress> addresses)
    {
        if (_cluster is null) return;
        foreach (var address in addresses)
        {
            var holders = _state.Workers.Holders(address).Where(h => !IsPlaceholder(h))
                .Select(h => new LocalHolder(h.Endpoint, h.ReplyTo.Path.Address.ToString())).ToList();
            if (holders.Count > 0) _cluster.Tell(new LocalHolders(address.ToString(), holders));
        }
    }

    private bool IsClaimPending(BaseAddress address) => _claims.ContainsKey(address);

    private void ReleaseInCluster(IReadOnlyList<BaseAddress> addresses)
    {
        if (_cluster is null || addresses.Count == 0) return;
        foreach (var address in addresses) _claims.Remove(address);
        _cluster.Tell(new Released(addresses.Select(a => a.ToString()).ToList()));
    }

    private RegisteredWorker? LocalOwner(BaseAddress address) =>
        _state.Workers.Holders(address).FirstOrDefault(h => !IsPlaceholder(h));

    // A worker of a router that left the cluster registers here: the placeholder that routed to it through that
    // router gives way to the worker itself (the same process: pid, host and data endpoint), whose claim the
    // cluster then grants once the old owner is gone.
    private void TakeOverFromRouterGone(BaseAddress address, RegisteredWorker worker)
    {
        var keys = _remote.Where(kv => kv.Value.Address.Equals(address) && kv.Value.Placeholder.Endpoint.SameProcessAs(worker.Endpoint))
            .Select(kv => kv.Key).ToList();
        foreach (var key in keys) ForgetRemote(key, out _);
        if (keys.Count > 0) _log.Info("Worker {0} moves {1} here from router it registered with", worker.Describe(), address);
    }

    private void OnMovedAway(MovedAway moved)
    {
        var address = BaseAddress.Parse(moved.BaseAddress);
        var mine = _state.Workers.Holders(address).Where(h => !IsPlaceholder(h) && h.Endpoint.SameProcessAs(moved.Worker)).ToList();
        foreach (var worker in mine) _state.Workers.Remove(address, worker);
        if (mine.Count == 0) return;
        PublishRoutes();
        _log.Info("Worker pid {0} moved {1} to router {2}: relayed there from now on", moved.Worker.ProcessId, address, moved.Router);
    }

    // Akka.Cluster's failure detector lost a worker member: its workers registered here (relayed: a worker with a
    // hand-over channel is known by its channel) stop receiving connections now, their addresses leave every router,
    // and the node is downed, so that it cannot come back with registrations nobody holds any more (its process
    // exits, and its service manager starts it again: it registers afresh).
    private void OnWorkerNodeUnreachable(WorkerNodeUnreachable unreachable)
    {
        if (_silentNodes.Remove(unreachable.Node)) PublishRoutes();
        var workers = _state.Workers.Entries.Select(e => e.Owner).Distinct()
            .Where(w => w.Gateway is null && !IsPlaceholder(w) && w.ReplyTo.Path.Address.Equals(unreachable.Node)).ToList();
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
        var key = registered.Key ?? registered.BaseAddress;
        if (ForgetRemote(key, out _)) PublishRoutes();
        var placeholder = new RegisteredWorker(registered.Worker, ActorRefs.Nobody, null, false, null, null) { SessionKey = registered.SessionKey };
        if (_state.Workers.Add(address, placeholder, out var owner, registered.Shared) != WorkerRegistrations.AddResult.Added)
        {
            // One of this router's workers has it until the cluster's refusal arrives; the winner is routed then.
            _log.Debug("{0} of router {1} waits: worker {2} of this router holds it until the cluster decides", address, registered.Router, owner?.Describe());
            return;
        }
        _remote[key] = (address, placeholder);
        _placeholders.Add(placeholder);
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
        : worker.Gateway is null && !IsPlaceholder(worker) ? worker.ReplyTo.Path.Address : null;

    private bool IsAnswering(RegisteredWorker worker) =>
        _silentNodes.Count == 0 || RelayedNodeOf(worker) is not { } node || !_silentNodes.Contains(node);

    /// <summary>
    /// Whether new connections for <paramref name="address"/> may go to <paramref name="worker"/>: not to a worker on
    /// a node that went silent (WorkerNodeSilent), and not to another router's worker of a shared address while one
    /// of this router's own holds it (its own are handed over or relayed without a second router's hop; the
    /// others' take over as soon as none of its own is left). While the cluster has not granted the address to this
    /// router yet, the other routers' holders keep it.
    /// </summary>
    private bool IsRoutable(BaseAddress address, RegisteredWorker worker)
    {
        if (!IsAnswering(worker)) return false;
        if (_placeholders.Count == 0) return true;
        var granted = !_claims.ContainsKey(address);
        return IsPlaceholder(worker)
            ? !granted || !_state.Workers.Holders(address).Any(h => !IsPlaceholder(h) && IsAnswering(h))
            : granted || !_state.Workers.Holders(address).Any(h => IsPlaceholder(h) && IsAnswering(h));
    }

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
