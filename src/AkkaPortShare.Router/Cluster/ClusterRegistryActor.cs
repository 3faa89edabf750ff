using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using AkkaPortShare.Contracts.Cluster;
using AkkaPortShare.Contracts.Registration;
using static AkkaPortShare.Router.Cluster.ClusterRegistryProtocol;

namespace AkkaPortShare.Router.Cluster;

/// <summary>
/// Shares this router's registrations with every router of the cluster, and feeds theirs into this router's registry
/// as workers reached by relay. The local registry stays the authority for its own workers (admission, hand-over,
/// liveness); this actor only decides whether an address is free cluster-wide and replicates who has it.
/// </summary>
/// <remarks>
/// <para>
/// Two replicated keys (Akka.DistributedData): <c>aps-claims</c>, an ORSet of claims (one per address a router wants
/// for a worker of its own), and <c>aps-owners</c>, an LWW map from base address to the winning claim. Only the
/// arbiter, the oldest router that is Up, writes a new owner, and only for an address without one, so two routers
/// racing for an address get exactly one winner: majority writes alone cannot give that (two writers can each
/// complete a majority write and read back only their own value). Owners remove their own entries when their
/// worker goes; the arbiter removes those of routers that left the cluster (downed by the split-brain resolver).
/// </para>
/// <para>
/// Records are plain strings (Akka's primitive serializer; the router's guards refuse every typed payload), fields
/// separated by newlines, which no base address or host name contains.
/// </para>
/// </remarks>
internal sealed partial class ClusterRegistryActor : ReceiveActor, IWithTimers
{
    internal static readonly ORSetKey<string> ClaimsKey = new("aps-claims");
    internal static readonly LWWDictionaryKey<string, string> OwnersKey = new("aps-owners");

    /// <summary>A claim or an owner: which router wants (or has) which address for which worker.</summary>
    /// <param name="WorkerNode">The worker's actor system address when it is a cluster member (role worker), else empty.</param>
    internal sealed record Entry(string ClaimId, string BaseAddress, string Router, WorkerEndpoint Worker, string WorkerNode = "")
    {
        public string Encode() => string.Join('\n', ClaimId, BaseAddress, Router, Worker.ProcessId, Worker.HostName, Worker.DataHost, Worker.DataPort, WorkerNode);

        public static Entry? Decode(string text)
        {
            var f = text.Split('\n');
            if (f.Length != 8 || !int.TryParse(f[3], out var pid) || !int.TryParse(f[6], out var port)) return null;
            return new Entry(f[0], f[1], f[2], new WorkerEndpoint(pid, f[4], null, f[5], port), f[7]);
        }


        public string Describe() => $"worker pid {Worker.ProcessId} on {Worker.HostName} ({Worker.DataHost}:{Worker.DataPort}) via router {Router}";
    }

    private sealed record ClaimExpired(string ClaimId);

    /// <summary>A router left while its worker was still a reachable member: the worker had this long to move.</summary>
    private sealed record RouterGoneGraceEnded(string BaseAddress, string ClaimId);

    /// <summary>
    /// <paramref name="Pending"/>: this router's undecided claims by id. <paramref name="Owned"/>: addresses granted
    /// to this router. <paramref name="Owners"/>: the owners as last seen, plus <paramref name="Decisions"/>, this
    /// arbiter's own decisions not seen back yet (a change notification may predate them).
    /// <paramref name="Claims"/>: every router's claims as last seen. <paramref name="Routed"/>: other routers'
    /// owners as told to the registry. <paramref name="Granted"/>: claims this arbiter granted that are still in the
    /// claims (their routers remove them once they saw the answer): never granted twice, even after a release.
    /// <paramref name="Probing"/>: worker members whose data endpoint is being probed after their association
    /// closed; <paramref name="Silent"/>: those the registry does not route to meanwhile (see AssociationLoss).
    /// </summary>
    private sealed record State(ImmutableDictionary<string, Entry> Pending, ImmutableHashSet<string> Owned,
        ImmutableDictionary<string, Entry> Owners, ImmutableDictionary<string, Entry> Decisions,
        ImmutableList<Entry> Claims, ImmutableDictionary<string, Entry> Routed, bool Arbiter, ImmutableHashSet<string> Granted,
        ImmutableHashSet<Address> Probing, ImmutableHashSet<Address> Silent);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly PortShareClusterSettings _settings;
    private readonly IActorRef _registry;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly string _self;
    private State _state = new(ImmutableDictionary<string, Entry>.Empty, ImmutableHashSet<string>.Empty,
        ImmutableDictionary<string, Entry>.Empty, ImmutableDictionary<string, Entry>.Empty, ImmutableList<Entry>.Empty,
        ImmutableDictionary<string, Entry>.Empty, false, ImmutableHashSet<string>.Empty, ImmutableHashSet<Address>.Empty,
        ImmutableHashSet<Address>.Empty);

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(PortShareClusterSettings settings, IActorRef registry) =>
        Akka.Actor.Props.Create(() => new ClusterRegistryActor(settings, registry));

    public ClusterRegistryActor(PortShareClusterSettings settings, IActorRef registry)
    {
        _settings = settings;
        _registry = registry;
        _self = NodeName(_cluster.SelfUniqueAddress);

        Receive<Claim>(OnClaim);
        Receive<Released>(OnReleased);
        Receive<ClaimExpired>(OnClaimExpired);
        Receive<Changed>(c => c.Key.Equals(ClaimsKey), c => OnClaimsChanged(c.Get(ClaimsKey)));
        Receive<Changed>(c => c.Key.Equals(OwnersKey), c => OnOwnersChanged(c.Get(OwnersKey)));
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            if (m.Member.HasRole(PortShareClusterSettings.WorkerRole)) ForgetSilence(m.Member.Address, "it left the cluster");
            OnRouterGone(m.Member);
        });
        WatchAssociations();
        Receive<ClusterEvent.UnreachableMember>(u =>
        {
            if (u.Member.HasRole(PortShareClusterSettings.WorkerRole)) OnWorkerUnreachable(u.Member);
        });
        Receive<RouterGoneGraceEnded>(OnRouterGoneGraceEnded);
        Receive<ClusterEvent.IMemberEvent>(_ => UpdateArbiter());
        Receive<ClusterEvent.CurrentClusterState>(_ => UpdateArbiter());
        Receive<IUpdateResponse>(r =>
        {
            // A majority write that timed out is not rolled back: it is applied here and spreads by gossip.
            if (!r.IsSuccessful) _log.Warning("Replicating the registry ({0}) did not reach a majority of the cluster in time: {1}", r.Key, r.GetType().Name);
        });
    }

    internal static string NodeName(UniqueAddress node) => $"{node.Address}#{node.Uid}";

    protected override void PreStart()
    {
        _replicator.Tell(Dsl.Subscribe(ClaimsKey, Self));
        _replicator.Tell(Dsl.Subscribe(OwnersKey, Self));
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent),
            typeof(ClusterEvent.UnreachableMember));
        SubscribeAssociations();
    }

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        Context.System.EventStream.Unsubscribe(Self);
    }

    private IWriteConsistency Majority => new WriteMajority(_settings.WriteTimeout);

    private void OnClaim(Claim claim)
    {
        // Another router's owner, unless it is this very worker moving here (its router left or is leaving the
        // cluster): that claim waits until the old owner is gone, and is then granted like any other.
        if (_state.Owners.TryGetValue(claim.BaseAddress, out var owner) && owner.Router != _self && !owner.Worker.SameProcessAs(claim.Worker))
        {
            Sender.Tell(new ClaimRefused(claim.BaseAddress, RegistryProtocol.RefusalReason.AddressAlreadyInUse,
                $"Address already in use: {claim.BaseAddress} is already registered in the cluster by {owner.Describe()}."));
            return;
        }
        var entry = new Entry(Guid.NewGuid().ToString("N"), claim.BaseAddress, _self, claim.Worker, claim.WorkerNode ?? "");
        _state = _state with { Pending = _state.Pending.SetItem(entry.ClaimId, entry) };
        Timers.StartSingleTimer(entry.ClaimId, new ClaimExpired(entry.ClaimId), _settings.ClaimTimeout);
        _replicator.Tell(Dsl.Update(ClaimsKey, ORSet<string>.Empty, Majority, s => s.Add(_cluster.SelfUniqueAddress, entry.Encode())));
    }

    private void OnReleased(Released released)
    {
        var mine = released.BaseAddresses.Where(a => _state.Owned.Contains(a)).ToList();
        if (mine.Count == 0) return;
        _state = _state with { Owned = _state.Owned.Except(mine), Owners = _state.Owners.RemoveRange(mine) };
        _replicator.Tell(Dsl.Update(OwnersKey, LWWDictionary<string, string>.Empty, Majority,
            d => mine.Aggregate(d, (acc, a) => acc.Remove(_cluster.SelfUniqueAddress, a))));
    }

    private void OnClaimExpired(ClaimExpired expired)
    {
        if (!_state.Pending.TryGetValue(expired.ClaimId, out var entry)) return;
        Decided(entry);
        _registry.Tell(new ClaimRefused(entry.BaseAddress, RegistryProtocol.RefusalReason.HandoverUnavailable,
            $"The cluster did not decide on {entry.BaseAddress} within {_settings.ClaimTimeout} (akka-port-share.cluster.claim-timeout): " +
            "the oldest router or a majority of the cluster is unreachable; register again later."));
    }

    private void OnClaimsChanged(ORSet<string> claims)
    {
        var all = claims.Elements.Select(Entry.Decode).OfType<Entry>().ToImmutableList();
        var ids = all.Select(c => c.ClaimId).ToHashSet();
        _state = _state with { Claims = all, Granted = _state.Granted.Where(ids.Contains).ToImmutableHashSet() };
        if (_state.Arbiter) Decide();
    }

    private void OnOwnersChanged(LWWDictionary<string, string> owners)
    {
        var seen = owners.Entries.Select(kv => Entry.Decode(kv.Value)).OfType<Entry>()
            .ToImmutableDictionary(e => e.BaseAddress);
        // This arbiter's decisions stay in the view until seen, while their claims are still waiting for them.
        var claimIds = _state.Claims.Select(c => c.ClaimId).ToHashSet();
        var decisions = _state.Decisions.Where(d => !seen.ContainsKey(d.Key) && claimIds.Contains(d.Value.ClaimId)).ToImmutableDictionary();
        _state = _state with { Owners = seen.SetItems(decisions), Decisions = decisions };
        RouteRemoteOwners(seen);

        // This router's claims that are decided now.
        foreach (var pending in _state.Pending.Values.ToList())
        {
            if (!seen.TryGetValue(pending.BaseAddress, out var owner)) continue;
            // This worker moving here from another router: its old entry is not an answer; it waits for it to go.
            if (owner.ClaimId != pending.ClaimId && owner.Router != _self && owner.Worker.SameProcessAs(pending.Worker)) continue;
            Decided(pending);
            if (owner.ClaimId == pending.ClaimId)
            {
                _state = _state with { Owned = _state.Owned.Add(pending.BaseAddress) };
                _registry.Tell(new ClaimGranted(pending.BaseAddress));
            }
            else
            {
                _registry.Tell(new ClaimRefused(pending.BaseAddress, RegistryProtocol.RefusalReason.AddressAlreadyInUse,
                    $"Address already in use: {pending.BaseAddress} is already registered in the cluster by {owner.Describe()}."));
                // The registry routed the address to its own worker meanwhile: route it to the winner now.
                if (_state.Routed.ContainsKey(owner.BaseAddress)) _registry.Tell(new RemoteRegistered(owner.BaseAddress, owner.Worker, owner.Router, owner.WorkerNode));
            }
        }

        // An owner entry of this router that it no longer holds (its claim expired before the arbiter decided, or
        // the worker went meanwhile): let it go, so the address is not held by nobody.
        var stale = seen.Values.Where(e => e.Router == _self && !_state.Owned.Contains(e.BaseAddress)).Select(e => e.BaseAddress).ToList();
        if (stale.Count > 0)
        {
            _state = _state with { Owners = _state.Owners.RemoveRange(stale) };
            _replicator.Tell(Dsl.Update(OwnersKey, LWWDictionary<string, string>.Empty, Majority,
                d => stale.Aggregate(d, (acc, a) => acc.Remove(_cluster.SelfUniqueAddress, a))));
        }
        if (_state.Arbiter) Decide();
    }

    // Other routers' registrations: into (or out of) this router's registry.
    private void RouteRemoteOwners(ImmutableDictionary<string, Entry> seen)
    {
        var remote = seen.Where(kv => kv.Value.Router != _self).ToImmutableDictionary();
        foreach (var (address, old) in _state.Routed)
        {
            if (remote.TryGetValue(address, out var now) && now.ClaimId == old.ClaimId) continue;
            // A worker moving from a router that left: routed until it has a new owner or its grace ends.
            if (!seen.ContainsKey(address) && (Timers.IsTimerActive(("gone", address)) || StartMoveGrace(old)))
            {
                remote = remote.SetItem(address, old);
                continue;
            }
            _registry.Tell(new RemoteUnregistered(address));
        }
        foreach (var (address, now) in remote)
            if (!_state.Routed.TryGetValue(address, out var old) || old.ClaimId != now.ClaimId)
                _registry.Tell(new RemoteRegistered(address, now.Worker, now.Router, now.WorkerNode));
        _state = _state with { Routed = remote };
    }

    // A claim of this router was answered (or expired): it leaves the replicated claims.
    private void Decided(Entry claim)
    {
        Timers.Cancel(claim.ClaimId);
        _state = _state with { Pending = _state.Pending.Remove(claim.ClaimId) };
        _replicator.Tell(Dsl.Update(ClaimsKey, ORSet<string>.Empty, WriteLocal.Instance, s => s.Remove(_cluster.SelfUniqueAddress, claim.Encode())));
    }

    // The arbiter: each address without an owner goes to one claim of a router that is still a member (the smallest
    // claim id, so a decision taken again after a restart of the arbiter picks the same one).
    private void Decide()
    {
        var members = _cluster.State.Members.Where(m => IsMember(m.Status))
            .Select(m => NodeName(m.UniqueAddress)).ToHashSet();
        var winners = _state.Claims
            .Where(c => !_state.Owners.ContainsKey(c.BaseAddress) && members.Contains(c.Router) && !_state.Granted.Contains(c.ClaimId))
            .GroupBy(c => c.BaseAddress)
            .Select(g => g.MinBy(c => c.ClaimId, StringComparer.Ordinal)!)
            .ToList();
        if (winners.Count == 0) return;
        var decided = winners.Select(w => KeyValuePair.Create(w.BaseAddress, w)).ToList();
        _state = _state with
        {
            Owners = _state.Owners.SetItems(decided), Decisions = _state.Decisions.SetItems(decided),
            Granted = _state.Granted.Union(winners.Select(w => w.ClaimId)),
        };
        foreach (var w in winners) _log.Debug("Arbiter: {0} goes to {1}", w.BaseAddress, w.Describe());
        _replicator.Tell(Dsl.Update(OwnersKey, LWWDictionary<string, string>.Empty, Majority,
            d => winners.Aggregate(d, (acc, w) => acc.SetItem(_cluster.SelfUniqueAddress, w.BaseAddress, w.Encode()))));
    }

    // A router left the cluster (it left, or the split-brain resolver downed it): its registrations are gone from
    // every router at once; the arbiter also removes them from the replicated keys.
    private void OnRouterGone(Member member)
    {
        var node = NodeName(member.UniqueAddress);
        var entries = _state.Owners.Values.Where(e => e.Router == node).ToList();
        var gone = entries.Select(e => e.BaseAddress).ToList();
        // A worker that is a member of the cluster and still reachable registers with another router (it saw its
        // router go too): keep routing to it meanwhile, for up to claim-timeout, so its clients see no gap.
        var moving = entries.Where(e => _state.Routed.ContainsKey(e.BaseAddress) && StartMoveGrace(e)).ToList();
        var removed = gone.Except(moving.Select(e => e.BaseAddress)).ToList();
        foreach (var address in removed) _registry.Tell(new RemoteUnregistered(address));
        _state = _state with { Routed = _state.Routed.RemoveRange(removed) };
        if (removed.Count > 0)
            _log.Warning("Router {0} left the cluster: removed its {1} address(es) {2}", member.Address, removed.Count, string.Join(", ", removed));
        if (moving.Count > 0)
            _log.Info("Router {0} left the cluster: its workers that are cluster members register with another router; " +
                "routed to them meanwhile: {1}", member.Address, string.Join(", ", moving.Select(e => e.BaseAddress)));
        _state = _state with { Owners = _state.Owners.RemoveRange(gone) };
        UpdateArbiter();
        if (_state.Arbiter) RemoveRouter(node, gone);
    }

    // An owner entry left because its router is leaving or gone (not because its worker unregistered: then the
    // router is up) while its worker is a reachable member, which registers with another router now: this router
    // keeps routing to the worker for up to claim-timeout, so that its clients see no gap.
    private bool StartMoveGrace(Entry entry)
    {
        if (!IsReachableWorker(entry.WorkerNode) || IsServingRouter(entry.Router)) return false;
        Timers.StartSingleTimer(("gone", entry.BaseAddress), new RouterGoneGraceEnded(entry.BaseAddress, entry.ClaimId), _settings.ClaimTimeout);
        return true;
    }

    private bool IsServingRouter(string node) => _cluster.State.Members.Any(m => NodeName(m.UniqueAddress) == node && IsReachableMember(m));

    // Joining and WeaklyUp count: a member that joined just before another became unreachable stays Joining until
    // the cluster converges again, which needs that one removed first.
    private static bool IsMember(MemberStatus status) => status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining;

    private bool IsReachableMember(Member m) => IsMember(m.Status) && !_cluster.State.Unreachable.Contains(m);

    // A worker member unreachable: its registrations here (if any) go at once (the registry downs it), and every
    // other router's registration of it stops being routed here now rather than when its router's removal arrives.
    private void OnWorkerUnreachable(Member worker)
    {
        _registry.Tell(new WorkerNodeUnreachable(worker.Address));
        ForgetSilence(worker.Address, null); // the registry forgets it too: its registrations go now
        var node = worker.Address.ToString();
        var lost = _state.Routed.Values.Where(e => e.WorkerNode == node).Select(e => e.BaseAddress).ToList();
        foreach (var address in lost) _registry.Tell(new RemoteUnregistered(address));
        _state = _state with { Routed = _state.Routed.RemoveRange(lost) };
    }

    private bool IsReachableWorker(string node) => node.Length > 0 && _cluster.State.Members.Any(m =>
        m.HasRole(PortShareClusterSettings.WorkerRole) && m.Address.ToString() == node && IsReachableMember(m));

    // The moving worker did not register with another router in time (or it did, and its new owner replaced this
    // entry already: then the claim ids differ and nothing is left to do).
    private void OnRouterGoneGraceEnded(RouterGoneGraceEnded ended)
    {
        if (!_state.Routed.TryGetValue(ended.BaseAddress, out var routed) || routed.ClaimId != ended.ClaimId) return;
        if (_state.Owners.TryGetValue(ended.BaseAddress, out var owner) && owner.ClaimId == ended.ClaimId) return;
        _state = _state with { Routed = _state.Routed.Remove(ended.BaseAddress) };
        _registry.Tell(new RemoteUnregistered(ended.BaseAddress));
    }

    private void RemoveRouter(string node, IReadOnlyList<string> addresses)
    {
        var claims = _state.Claims.Where(c => c.Router == node).Select(c => c.Encode()).ToList();
        if (addresses.Count > 0)
            _replicator.Tell(Dsl.Update(OwnersKey, LWWDictionary<string, string>.Empty, Majority,
                d => addresses.Aggregate(d, (acc, a) => acc.Remove(_cluster.SelfUniqueAddress, a))));
        if (claims.Count > 0)
            _replicator.Tell(Dsl.Update(ClaimsKey, ORSet<string>.Empty, WriteLocal.Instance,
                s => claims.Aggregate(s, (acc, c) => acc.Remove(_cluster.SelfUniqueAddress, c))));
    }

    private void UpdateArbiter()
    {
        var oldest = _cluster.State.Members
            .Where(m => m.Status == MemberStatus.Up && m.HasRole(PortShareClusterSettings.RouterRole))
            .Aggregate((Member?)null, (o, m) => o is null || m.IsOlderThan(o) ? m : o);
        var arbiter = oldest is not null && oldest.UniqueAddress.Equals(_cluster.SelfUniqueAddress);
        if (arbiter == _state.Arbiter) return;
        _state = _state with { Arbiter = arbiter };
        if (!arbiter) return;
        _log.Info("This router is the cluster registry's arbiter now (the oldest router)");
        // Owners and claims of routers that are no longer members (removed while another router was the arbiter).
        var members = _cluster.State.Members.Select(m => NodeName(m.UniqueAddress)).ToHashSet();
        foreach (var node in _state.Owners.Values.Select(e => e.Router).Concat(_state.Claims.Select(c => c.Router)).Distinct().Where(n => !members.Contains(n)).ToList())
        {
            var addresses = _state.Owners.Values.Where(e => e.Router == node).Select(e => e.BaseAddress).ToList();
            foreach (var address in addresses.Where(_state.Routed.ContainsKey)) _registry.Tell(new RemoteUnregistered(address));
            _state = _state with { Owners = _state.Owners.RemoveRange(addresses), Routed = _state.Routed.RemoveRange(addresses) };
            RemoveRouter(node, addresses);
        }
        Decide();
    }
}
