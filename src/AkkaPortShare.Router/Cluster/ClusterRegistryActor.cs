using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using AkkaPortShare.Contracts.Cluster;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Protocol.Handover;
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
/// for a worker of its own), and <c>aps-owners</c>, an LWW map of holders: the base address itself for an address
/// one worker holds, base address and claim id for each holder of a shared one (share-addresses: several workers,
/// possibly of several routers, when every one of them asked to share). Only the arbiter, the oldest router that
/// is Up, grants a claim, and only for an address without a holder, or a shared claim when every holder shares,
/// so two routers racing for an address get exactly one winner unless both share: majority writes alone cannot
/// give that (two writers can each complete a majority write and read back only their own value). Each router
/// writes only its own holders afterwards (another of its workers joins a shared address it holds, or one goes),
/// so no two routers write one key; the arbiter removes those of routers that left the cluster (downed by the
/// split-brain resolver).
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
    /// <param name="Shared">The worker asked to share the address (share-addresses).</param>
    internal sealed record Entry(string ClaimId, string BaseAddress, string Router, WorkerEndpoint Worker, string WorkerNode = "", bool Shared = false)
    {
        /// <summary>Its key in the owners map: the address for a sole holder, one key per holder of a shared one.</summary>
        public string Key => Shared ? $"{BaseAddress}\n{ClaimId}" : BaseAddress;

        public string Encode() => string.Join('\n', ClaimId, BaseAddress, Router, Worker.ProcessId, Worker.HostName, Worker.DataHost,
            Worker.DataPort, WorkerNode, Shared ? "shared" : "");

        // Eight fields: written by a router of the version before shared addresses (never shared).
        public static Entry? Decode(string text)
        {
            var f = text.Split('\n');
            if (f.Length is not (8 or 9) || !int.TryParse(f[3], out var pid) || !int.TryParse(f[6], out var port)) return null;
            return new Entry(f[0], f[1], f[2], new WorkerEndpoint(pid, f[4], null, f[5], port), f[7], f.Length == 9 && f[8] == "shared");
        }

        /// <summary>
        /// A new claim id for <paramref name="worker"/>: random, then its reliable sessions' key when it has one
        /// (<see cref="SessionRouteKey"/>, from its hand-over socket's path, which stays on its host). The key rides in
        /// the id rather than in a field of its own because routers of the previous version read ids opaquely but
        /// drop entries with more fields than they know.
        /// </summary>
        public static string NewClaimId(WorkerEndpoint worker) =>
            Guid.NewGuid().ToString("N") + (worker.HandoverPath is { } path ? "." + SessionRouteKey.ForWorker(path) : "");

        public SessionRouteKey? SessionKey =>
            ClaimId.IndexOf('.') is var dot and >= 0 && SessionRouteKey.TryParse(ClaimId.AsSpan(dot + 1), out var key) ? key : null;

        public string Describe() => $"worker pid {Worker.ProcessId} on {Worker.HostName} ({Worker.DataHost}:{Worker.DataPort}) via router {Router}";
    }

    private sealed record ClaimExpired(string ClaimId);

    /// <summary>A router left while its worker was still a reachable member: the worker had this long to move.</summary>
    private sealed record RouterGoneGraceEnded(string Key, string ClaimId);

    /// <summary>
    /// <paramref name="Pending"/>: this router's undecided claims by id. <paramref name="Owned"/>: addresses granted
    /// to this router. <paramref name="Owners"/>: the holders as last seen (by key, <see cref="Entry.Key"/>), plus
    /// <paramref name="Decisions"/>, this arbiter's own decisions not seen back yet (a change notification may
    /// predate them). <paramref name="Claims"/>: every router's claims as last seen. <paramref name="Routed"/>: other
    /// routers' holders as told to the registry (by key). <paramref name="Granted"/>: claims this arbiter granted that are still in the
    /// claims (their routers remove them once they saw the answer): never granted twice, even after a release.
    /// <paramref name="Probing"/>: worker members whose data endpoint is being probed after their association
    /// closed; <paramref name="Silent"/>: those the registry does not route to meanwhile (see AssociationLoss).
    /// <paramref name="Unreachable"/>: worker members the failure detector marks unreachable now (their addresses, as
    /// <see cref="Entry.WorkerNode"/> names them), kept from the cluster's events rather than read from its state, which
    /// may not have seen an event yet when this actor handles it.
    /// </summary>
    private sealed record State(ImmutableDictionary<string, Entry> Pending, ImmutableHashSet<string> Owned,
        ImmutableDictionary<string, Entry> Owners, ImmutableDictionary<string, Entry> Decisions,
        ImmutableList<Entry> Claims, ImmutableDictionary<string, Entry> Routed, bool Arbiter, ImmutableHashSet<string> Granted,
        ImmutableHashSet<Address> Probing, ImmutableHashSet<Address> Silent, ImmutableHashSet<string> Unreachable);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly PortShareClusterSettings _settings;
    private readonly IActorRef _registry;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly string _self;
    private State _state = new(ImmutableDictionary<string, Entry>.Empty, ImmutableHashSet<string>.Empty,
        ImmutableDictionary<string, Entry>.Empty, ImmutableDictionary<string, Entry>.Empty, ImmutableList<Entry>.Empty,
        ImmutableDictionary<string, Entry>.Empty, false, ImmutableHashSet<string>.Empty, ImmutableHashSet<Address>.Empty,
        ImmutableHashSet<Address>.Empty, ImmutableHashSet<string>.Empty);

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
        Receive<LocalHolders>(OnLocalHolders);
        Receive<ClaimExpired>(OnClaimExpired);
        Receive<Changed>(c => c.Key.Equals(ClaimsKey), c => OnClaimsChanged(c.Get(ClaimsKey)));
        Receive<Changed>(c => c.Key.Equals(OwnersKey), c => OnOwnersChanged(c.Get(OwnersKey)));
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            if (m.Member.HasRole(PortShareClusterSettings.WorkerRole))
            {
                ForgetSilence(m.Member.Address, "it left the cluster");
                _state = _state with { Unreachable = _state.Unreachable.Remove(m.Member.Address.ToString()) };
            }
            OnRouterGone(m.Member);
        });
        WatchAssociations();
        Receive<ClusterEvent.UnreachableMember>(u =>
        {
            if (u.Member.HasRole(PortShareClusterSettings.WorkerRole)) OnWorkerUnreachable(u.Member);
        });
        Receive<ClusterEvent.ReachableMember>(r =>
        {
            if (r.Member.HasRole(PortShareClusterSettings.WorkerRole)) OnWorkerReachable(r.Member);
        });
        Receive<RouterGoneGraceEnded>(OnRouterGoneGraceEnded);
        Receive<ClusterEvent.IMemberEvent>(_ => UpdateArbiter());
        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            var unreachable = state.Unreachable.Where(m => m.HasRole(PortShareClusterSettings.WorkerRole)).Select(m => m.Address.ToString());
            _state = _state with { Unreachable = _state.Unreachable.Union(unreachable) };
            UpdateArbiter();
        });
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
            typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.ReachableMember));
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
        // Another router's holder, unless both share the address, or it is this very worker moving here (its router
        // left or is leaving the cluster): that claim waits until the old holder is gone, and is then granted.
        var others = HoldersOf(claim.BaseAddress).Where(o => o.Router != _self && !o.Worker.SameProcessAs(claim.Worker)).ToList();
        if (others.Count > 0 && !(claim.Shared && others.All(o => o.Shared)))
        {
            Sender.Tell(new ClaimRefused(claim.BaseAddress, RegistryProtocol.RefusalReason.AddressAlreadyInUse, InUse(claim.BaseAddress, others[0], claim.Shared)));
            return;
        }
        var entry = new Entry(Entry.NewClaimId(claim.Worker), claim.BaseAddress, _self, claim.Worker, claim.WorkerNode ?? "", claim.Shared);
        _state = _state with { Pending = _state.Pending.SetItem(entry.ClaimId, entry) };
        Timers.StartSingleTimer(entry.ClaimId, new ClaimExpired(entry.ClaimId), _settings.ClaimTimeout);
        _replicator.Tell(Dsl.Update(ClaimsKey, ORSet<string>.Empty, Majority, s => s.Add(_cluster.SelfUniqueAddress, entry.Encode())));
    }

    private void OnReleased(Released released)
    {
        var mine = released.BaseAddresses.Where(a => _state.Owned.Contains(a)).ToList();
        if (mine.Count == 0) return;
        // Its holders of a shared address by their keys; a sole holder's key is the address.
        var keys = _state.Owners.Where(kv => kv.Value.Router == _self && mine.Contains(kv.Value.BaseAddress)).Select(kv => kv.Key)
            .Union(mine).ToList();
        _state = _state with { Owned = _state.Owned.Except(mine), Owners = _state.Owners.RemoveRange(keys) };
        _replicator.Tell(Dsl.Update(OwnersKey, LWWDictionary<string, string>.Empty, Majority,
            d => keys.Aggregate(d, (acc, k) => acc.Remove(_cluster.SelfUniqueAddress, k))));
    }

    // Another worker of this router joined a shared address the router holds (no claim: the address is the router's
    // already), or one of several left: the router's holders in the cluster follow, so that other routers relay to
    // any of them. Only this router writes these keys.
    private void OnLocalHolders(LocalHolders local)
    {
        if (!_state.Owned.Contains(local.BaseAddress)) return;
        var own = _state.Owners.Where(kv => kv.Value.Router == _self && kv.Value.BaseAddress == local.BaseAddress).ToList();
        if (own.Count == 0 || own.Any(kv => !kv.Value.Shared)) return;
        var gone = own.Where(kv => !local.Holders.Any(h => h.Worker.SameProcessAs(kv.Value.Worker))).Select(kv => kv.Key).ToList();
        var added = local.Holders.Where(h => !own.Any(kv => kv.Value.Worker.SameProcessAs(h.Worker)))
            .Select(h => new Entry(Entry.NewClaimId(h.Worker), local.BaseAddress, _self, h.Worker, h.WorkerNode, Shared: true)).ToList();
        if (gone.Count == 0 && added.Count == 0) return;
        _state = _state with { Owners = _state.Owners.RemoveRange(gone).SetItems(added.Select(e => KeyValuePair.Create(e.Key, e))) };
        _replicator.Tell(Dsl.Update(OwnersKey, LWWDictionary<string, string>.Empty, Majority,
            d => added.Aggregate(gone.Aggregate(d, (acc, k) => acc.Remove(_cluster.SelfUniqueAddress, k)),
                (acc, e) => acc.SetItem(_cluster.SelfUniqueAddress, e.Key, e.Encode()))));
    }

    private IEnumerable<Entry> HoldersOf(string address) => _state.Owners.Values.Where(e => e.BaseAddress == address);

    private static string InUse(string address, Entry holder, bool shared) =>
        $"Address already in use: {address} is already registered in the cluster by {holder.Describe()}" + (shared
            ? " without share-addresses (an address is shared only when every worker holding it asks to share it)."
            : ".");

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
        var seen = owners.Entries.Select(kv => (kv.Key, Entry: Entry.Decode(kv.Value))).Where(kv => kv.Entry is not null)
            .ToImmutableDictionary(kv => kv.Key, kv => kv.Entry!);
        // This arbiter's decisions stay in the view until seen, while their claims are still waiting for them.
        var claimIds = _state.Claims.Select(c => c.ClaimId).ToHashSet();
        var decisions = _state.Decisions.Where(d => !seen.ContainsKey(d.Key) && claimIds.Contains(d.Value.ClaimId)).ToImmutableDictionary();
        // This router's worker registered with another router, which took its address over (it went back to its
        // own router, or left this one): the address is not this router's any more, and nothing of it is released.
        // Told before the new holder is, so that the registry routes to it at once.
        foreach (var (key, mine) in _state.Owners.Where(kv => kv.Value.Router == _self && _state.Owned.Contains(kv.Value.BaseAddress)).ToList())
            if (seen.TryGetValue(key, out var now) && now.Router != _self && now.Worker.SameProcessAs(mine.Worker)) MovedAwayFrom(mine, now);
        _state = _state with { Owners = seen.SetItems(decisions), Decisions = decisions };
        RouteRemoteOwners(seen);

        // This router's claims that are decided now.
        foreach (var pending in _state.Pending.Values.ToList())
        {
            var holders = seen.Values.Where(e => e.BaseAddress == pending.BaseAddress).ToList();
            if (holders.Any(h => h.ClaimId == pending.ClaimId))
            {
                Decided(pending);
                _state = _state with { Owned = _state.Owned.Add(pending.BaseAddress) };
                _registry.Tell(new ClaimGranted(pending.BaseAddress));
                continue;
            }
            // This worker moving here from another router: its old entry is not an answer; it waits for it to go.
            var blocking = holders.Where(h => !(h.Router != _self && h.Worker.SameProcessAs(pending.Worker))).ToList();
            // None, or holders that all share with a claim that shares: the arbiter grants it.
            if (blocking.Count == 0 || pending.Shared && blocking.All(h => h.Shared)) continue;
            Decided(pending);
            _registry.Tell(new ClaimRefused(pending.BaseAddress, RegistryProtocol.RefusalReason.AddressAlreadyInUse,
                InUse(pending.BaseAddress, blocking[0], pending.Shared)));
            // The registry routed the address to its own worker meanwhile: route it to the winner now.
            foreach (var (key, routed) in _state.Routed.Where(kv => kv.Value.BaseAddress == pending.BaseAddress))
                _registry.Tell(Registered(key, routed));
        }

        // An owner entry of this router that it no longer holds (its claim expired before the arbiter decided, or
        // the worker went meanwhile): let it go, so the address is not held by nobody.
        var stale = seen.Where(kv => kv.Value.Router == _self && !_state.Owned.Contains(kv.Value.BaseAddress)).Select(kv => kv.Key).ToList();
        if (stale.Count > 0)
        {
            _state = _state with { Owners = _state.Owners.RemoveRange(stale) };
            _replicator.Tell(Dsl.Update(OwnersKey, LWWDictionary<string, string>.Empty, Majority,
                d => stale.Aggregate(d, (acc, k) => acc.Remove(_cluster.SelfUniqueAddress, k))));
        }
        if (_state.Arbiter) Decide();
    }

    // Other routers' registrations: into (or out of) this router's registry.
    private void RouteRemoteOwners(ImmutableDictionary<string, Entry> seen)
    {
        // A worker member the failure detector marks unreachable is not routed to until it is reachable again.
        var remote = seen.Where(kv => kv.Value.Router != _self && !_state.Unreachable.Contains(kv.Value.WorkerNode)).ToImmutableDictionary();
        foreach (var (key, old) in _state.Routed)
        {
            if (remote.TryGetValue(key, out var now) && now.ClaimId == old.ClaimId) continue;
            // A worker moving from a router that left: routed until it has a new owner or its grace ends.
            if (!seen.ContainsKey(key) && (Timers.IsTimerActive(("gone", key)) || StartMoveGrace(key, old)))
            {
                remote = remote.SetItem(key, old);
                continue;
            }
            _registry.Tell(new RemoteUnregistered(old.BaseAddress, key));
        }
        foreach (var (key, now) in remote)
            if (!_state.Routed.TryGetValue(key, out var old) || old.ClaimId != now.ClaimId)
                _registry.Tell(Registered(key, now));
        _state = _state with { Routed = remote };
    }

    // The registry forgets its own registration and routes to the new holder in one go: the arbiter sees its own
    // decision back only with the next notification (tens of milliseconds), which would leave the address unrouted.
    private void MovedAwayFrom(Entry mine, Entry now)
    {
        if (!_state.Owned.Contains(mine.BaseAddress)) return;
        _state = _state with { Owned = _state.Owned.Remove(mine.BaseAddress), Routed = _state.Routed.SetItem(now.Key, now) };
        _registry.Tell(new MovedAway(mine.BaseAddress, mine.Worker, now.Router));
        _registry.Tell(Registered(now.Key, now));
    }

    private static RemoteRegistered Registered(string key, Entry e) => new(e.BaseAddress, e.Worker, e.Router, e.WorkerNode, e.Shared, key, e.SessionKey);

    // A claim of this router was answered (or expired): it leaves the replicated claims.
    private void Decided(Entry claim)
    {
        Timers.Cancel(claim.ClaimId);
        _state = _state with { Pending = _state.Pending.Remove(claim.ClaimId) };
        _replicator.Tell(Dsl.Update(ClaimsKey, ORSet<string>.Empty, WriteLocal.Instance, s => s.Remove(_cluster.SelfUniqueAddress, claim.Encode())));
    }

    // The arbiter: each address without a holder goes to one claim of a router that is still a member (the smallest
    // claim id, so a decision taken again after a restart of the arbiter picks the same one); a shared claim also
    // joins holders that all share (share-addresses on every worker of every router holding it); a worker holding it
    // through another router takes it with it.
    private void Decide()
    {
        var members = _cluster.State.Members.Where(m => IsMember(m.Status))
            .Select(m => NodeName(m.UniqueAddress)).ToHashSet();
        var winners = new List<Entry>();
        foreach (var claims in _state.Claims.Where(c => members.Contains(c.Router) && !_state.Granted.Contains(c.ClaimId)).GroupBy(c => c.BaseAddress))
        {
            var holders = HoldersOf(claims.Key).ToList();
            foreach (var claim in claims.OrderBy(c => c.ClaimId, StringComparer.Ordinal))
            {
                // The same worker process registering through another router moves there: its entry is taken over
                // in one write (the same key), so that it is routed all along.
                var others = holders.Where(h => !(h.Router != claim.Router && h.Worker.SameProcessAs(claim.Worker))).ToList();
                if (others.Count > 0 && !(claim.Shared && others.All(h => h.Shared))) continue;
                winners.Add(claim);
                // This arbiter's own worker moving away: its view changes here, before any notification shows it.
                foreach (var mine in holders.Where(h => h.Key == claim.Key && h.Router == _self && claim.Router != _self)) MovedAwayFrom(mine, claim);
                holders.RemoveAll(h => h.Key == claim.Key);
                holders.Add(claim);
            }
        }
        if (winners.Count == 0) return;
        var decided = winners.Select(w => KeyValuePair.Create(w.Key, w)).ToList();
        _state = _state with
        {
            Owners = _state.Owners.SetItems(decided), Decisions = _state.Decisions.SetItems(decided),
            Granted = _state.Granted.Union(winners.Select(w => w.ClaimId)),
        };
        foreach (var w in winners) _log.Debug("Arbiter: {0} goes to {1}", w.BaseAddress, w.Describe());
        _replicator.Tell(Dsl.Update(OwnersKey, LWWDictionary<string, string>.Empty, Majority,
            d => winners.Aggregate(d, (acc, w) => acc.SetItem(_cluster.SelfUniqueAddress, w.Key, w.Encode()))));
    }

    // A router left the cluster (it left, or the split-brain resolver downed it): its registrations are gone from
    // every router at once; the arbiter also removes them from the replicated keys.
    private void OnRouterGone(Member member)
    {
        var node = NodeName(member.UniqueAddress);
        var entries = _state.Owners.Where(kv => kv.Value.Router == node).ToList();
        var gone = entries.Select(kv => kv.Key).ToList();
        // A worker that is a member of the cluster and still reachable registers with another router (it saw its
        // router go too): keep routing to it meanwhile, for up to claim-timeout, so its clients see no gap.
        var moving = entries.Where(kv => _state.Routed.ContainsKey(kv.Key) && StartMoveGrace(kv.Key, kv.Value)).ToList();
        var removed = entries.Where(kv => !moving.Contains(kv)).ToList();
        foreach (var (key, entry) in removed) _registry.Tell(new RemoteUnregistered(entry.BaseAddress, key));
        _state = _state with { Routed = _state.Routed.RemoveRange(removed.Select(kv => kv.Key)) };
        if (removed.Count > 0)
            _log.Warning("Router {0} left the cluster: removed its {1} address(es) {2}", member.Address, removed.Count,
                string.Join(", ", removed.Select(kv => kv.Value.BaseAddress)));
        if (moving.Count > 0)
            _log.Info("Router {0} left the cluster: its workers that are cluster members register with another router; " +
                "routed to them meanwhile: {1}", member.Address, string.Join(", ", moving.Select(kv => kv.Value.BaseAddress)));
        _state = _state with { Owners = _state.Owners.RemoveRange(gone) };
        UpdateArbiter();
        if (_state.Arbiter) RemoveRouter(node, gone);
    }

    // An owner entry left because its router is leaving or gone (not because its worker unregistered: then the
    // router is up) while its worker is a reachable member, which registers with another router now: this router
    // keeps routing to the worker for up to claim-timeout, so that its clients see no gap.
    private bool StartMoveGrace(string key, Entry entry)
    {
        if (!IsReachableWorker(entry.WorkerNode) || IsServingRouter(entry.Router)) return false;
        Timers.StartSingleTimer(("gone", key), new RouterGoneGraceEnded(key, entry.ClaimId), _settings.ClaimTimeout);
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
        _state = _state with { Unreachable = _state.Unreachable.Add(node) };
        var lost = _state.Routed.Where(kv => kv.Value.WorkerNode == node).ToList();
        foreach (var (key, entry) in lost) _registry.Tell(new RemoteUnregistered(entry.BaseAddress, key));
        _state = _state with { Routed = _state.Routed.RemoveRange(lost.Select(kv => kv.Key)) };
    }

    // Reachable again (a pause of its heartbeats, not its end): other routers' registrations of it are routed here
    // again. Without this they stayed unrouted until the holders' next change, though nothing had changed (found in
    // RouterClusterSpec: connections reset between the hosts, the failure detector of the router that was not the
    // worker's marked it unreachable for 250 ms, and its clients got EndpointNotFound for 5 s).
    private void OnWorkerReachable(Member worker)
    {
        var node = worker.Address.ToString();
        if (!_state.Unreachable.Contains(node)) return;
        _state = _state with { Unreachable = _state.Unreachable.Remove(node) };
        var before = _state.Routed.Count;
        RouteRemoteOwners(_state.Owners.RemoveRange(_state.Decisions.Keys));
        _log.Info("Worker node {0} is reachable again: {1} registration(s) of other routers routed to it again", node, _state.Routed.Count - before);
    }

    private bool IsReachableWorker(string node) => node.Length > 0 && _cluster.State.Members.Any(m =>
        m.HasRole(PortShareClusterSettings.WorkerRole) && m.Address.ToString() == node && IsReachableMember(m));

    // The moving worker did not register with another router in time (or it did, and its new owner replaced this
    // entry already: then the claim ids differ and nothing is left to do).
    private void OnRouterGoneGraceEnded(RouterGoneGraceEnded ended)
    {
        if (!_state.Routed.TryGetValue(ended.Key, out var routed) || routed.ClaimId != ended.ClaimId) return;
        if (_state.Owners.TryGetValue(ended.Key, out var owner) && owner.ClaimId == ended.ClaimId) return;
        _state = _state with { Routed = _state.Routed.Remove(ended.Key) };
        _registry.Tell(new RemoteUnregistered(routed.BaseAddress, ended.Key));
    }

    private void RemoveRouter(string node, IReadOnlyList<string> keys)
    {
        var claims = _state.Claims.Where(c => c.Router == node).Select(c => c.Encode()).ToList();
        if (keys.Count > 0)
            _replicator.Tell(Dsl.Update(OwnersKey, LWWDictionary<string, string>.Empty, Majority,
                d => keys.Aggregate(d, (acc, k) => acc.Remove(_cluster.SelfUniqueAddress, k))));
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
            var entries = _state.Owners.Where(kv => kv.Value.Router == node).ToList();
            var keys = entries.Select(kv => kv.Key).ToList();
            foreach (var (key, entry) in entries.Where(kv => _state.Routed.ContainsKey(kv.Key))) _registry.Tell(new RemoteUnregistered(entry.BaseAddress, key));
            _state = _state with { Owners = _state.Owners.RemoveRange(keys), Routed = _state.Routed.RemoveRange(keys) };
            RemoveRouter(node, keys);
        }
        Decide();
    }
}
