using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Interop;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Diagnostics;
using AkkaPortShare.Router.Handover;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Registration;

/// <summary>
/// The one authority over which worker owns which base address on this host. Matching follows the Windows
/// service's rules (see <see cref="AddressTable{TOwner}"/>).
/// </summary>
/// <remarks>
/// <para>
/// Who may register (the Windows service's allowAccounts and pid check): Akka.Remote does not authenticate the
/// sender of a message, so a worker is not known by its actor reference but by what it can prove. A worker on this
/// host offers a hand-over socket; the registry connects to it (off the actor, see below), reads the listening
/// process's pid and user from the kernel (SO_PEERCRED), refuses users outside allowed-worker-users and a pid other than the one claimed, and
/// sends a random channel token through the socket. Only the process behind the socket receives it, and only
/// commands carrying it act for that worker, so nobody can register for, take over or unregister the addresses
/// of another worker. A worker without a reachable hand-over socket (another host) is admitted only with the
/// registration secret, and is then known by its actor reference. When the secret is set, every command needs it.
/// </para>
/// <para>
/// No registrant can make the registry wait: the socket it names is checked off the actor
/// (<see cref="HandoverSocketCheck"/>, bounded by admission-timeout), at most max-concurrent-admissions at once and
/// one per socket path (<see cref="AdmissionsInFlight"/>); the outcome comes back as a message, and Resolve is
/// answered meanwhile. A registration for a port or IP literal the listener does not cover is refused
/// (<see cref="ListenEndPoint"/>).
/// </para>
/// <para>
/// Liveness: the hand-over channel's end-of-file tells within milliseconds that a worker process died (and it
/// cannot be forged from the network, unlike a remote Terminated); DeathWatch covers workers without a channel.
/// </para>
/// </remarks>
internal sealed partial class RegistryActor : ReceiveActor, IWithTimers
{
    /// <summary>
    /// Everything the registry keeps. <paramref name="Parked"/>: during the restart grace only, resolves that
    /// matched nothing yet (bounded: each is a held connection). <paramref name="Listener"/>: told by ListenerReady;
    /// takes every connection a worker hands back.
    /// </summary>
    private sealed record State(WorkerRegistrations Workers, AdmissionsInFlight Admissions,
        List<(Resolve Resolve, IActorRef ReplyTo)> Parked, IActorRef? Listener);

    private sealed class RestartGraceEnded
    {
        public static readonly RestartGraceEnded Instance = new();
    }

    /// <summary>A hand-over socket check ended (<see cref="HandoverSocketCheck"/>); sent with the registrant as sender.</summary>
    /// <param name="Replayed">The same outcome, for a Register that waited for the check (not the check's own end).</param>
    private sealed record AdmissionChecked(string Path, Register Register, HandoverSocketCheck.Outcome Outcome, bool Replayed = false)
        : INoSerializationVerificationNeeded;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RouterSettings _settings;
    private readonly IActorRef _drains;
    private readonly ListenEndPoint _listening;
    private readonly RouterMetrics _metrics = RouterMetrics.Get(Context.System);
    private readonly RouteSnapshots _routes = RouteSnapshots.Get(Context.System);
    private readonly TimeSpan _restartGrace;
    // The registry's own choice among a shared address's holders (Resolve), made as the snapshot's is.
    private readonly HolderPicker _picker;
    private State _state;

    /// <param name="drains">The fault-drains actor: every socket closed after a fault goes there.</param>
    /// <param name="restartGrace">After a restart on an inherited listening socket: how long a via that matches no
    /// registration waits for its worker to register again (see restart-grace); zero answers at once.</param>
    /// <param name="cluster">Makes the cluster registry (routers in one Akka.Cluster) as this actor's child, given
    /// this actor; null for a single router.</param>
    public static Props Props(RouterSettings settings, IActorRef drains, TimeSpan restartGrace = default, Func<IActorRef, Props>? cluster = null) =>
        Akka.Actor.Props.Create(() => new RegistryActor(settings, drains, restartGrace, cluster));

    public ITimerScheduler Timers { get; set; } = null!;

    public RegistryActor(RouterSettings settings, IActorRef drains, TimeSpan restartGrace, Func<IActorRef, Props>? cluster)
    {
        _settings = settings;
        _clusterProps = cluster;
        _drains = drains;
        _restartGrace = restartGrace;
        _listening = new ListenEndPoint(settings.ListenAddress, settings.Port);
        _picker = new HolderPicker(settings.SharedAddressBalancing);
        _state = new State(new WorkerRegistrations(), new AdmissionsInFlight(settings.MaxConcurrentAdmissions), [], null);
        if (restartGrace > TimeSpan.Zero) InRestartGrace();
        else Routing();
    }

    /// <summary>The usual state: a via that matches no registration is answered RouteNotFound at once.</summary>
    private void Routing()
    {
        Receive<Resolve>(r =>
        {
            if (!TryRoute(r, Sender)) Sender.Tell(new RouteNotFound(r.Via));
        });
        Registering();
    }

    /// <summary>After a restart on an inherited socket: an unmatched via waits for its worker to register again.</summary>
    private void InRestartGrace()
    {
        Receive<Resolve>(r =>
        {
            if (!TryRoute(r, Sender)) _state.Parked.Add((r, Sender));
        });
        Receive<RestartGraceEnded>(_ => EndRestartGrace());
        Registering();
    }

    /// <summary>What both states do alike: registrations, liveness, status, and connections handed back.</summary>
    private void Registering()
    {
        ClusterRegistrations();
        Receive<Register>(OnRegister);
        Receive<AdmissionChecked>(OnAdmissionChecked);
        Receive<Unregister>(OnUnregister);
        Receive<ConnectionLoad>(OnConnectionLoad);
        Receive<Undelivered>(OnUndelivered);
        Receive<Terminated>(t =>
        {
            if (_state.Workers.ByActor(t.ActorRef) is { } worker) RemoveWorker(worker, "its actor system is unreachable or stopped");
        });
        Receive<WorkerChannelClosed>(c =>
        {
            if (_state.Workers.ByGateway(Sender) is { } worker) RemoveWorker(worker, c.Reason);
        });
        Receive<ListenerReady>(_ => _state = _state with { Listener = Sender });
        Receive<Reroute>(OnReroute);
        Receive<MoveToSessionHolder>(OnMoveToSessionHolder);
        Receive<FindSessionHolder>(OnFindSessionHolder);
        ReceiveAssociationLoss();
        Receive<RouterProtocol.GetRegistrations>(_ => Sender.Tell(new RouterProtocol.Registrations(
            _state.Workers.Entries.Select(e => new RouterProtocol.RegisteredAddress(
                e.Address.ToString(), e.Owner.Endpoint.ProcessId, e.Owner.HandoverMode)
            {
                UserId = e.Owner.UserId,
                HostName = e.Owner.Endpoint.HostName,
                ConnectionsRouted = _metrics.RoutedTo(e.Address.ToString()),
            }).ToList())));
    }

    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    protected override void PostStop()
    {
        _state.Admissions.CancelAll();
        _routes.Publish(RouteSnapshot.Empty); // its gateways stop with it: connections ask the next registry
    }

    protected override void PreStart()
    {
        _routes.Publish(RouteSnapshot.Empty); // a restarted registry starts with no registrations
        Context.ActorOf(UndeliveredHandoversActor.Props(_drains), "undelivered-handovers");
        StartCluster();
        SubscribeAssociations();
        if (_restartGrace > TimeSpan.Zero)
        {
            Timers.StartSingleTimer(RestartGraceEnded.Instance, RestartGraceEnded.Instance, _restartGrace);
            _log.Info("Restarted on a listening socket that outlived the last router: connections for addresses not " +
                "registered yet wait up to {0} (restart-grace) for their workers to register again", _restartGrace);
        }
        var users = UnixHandover.IsSupported
            ? string.Join(", ", _settings.AllowedWorkerUserIds.Order().Select(UnixUsers.Describe))
            : "(not checked on this OS)";
        _log.Info("Workers may register when their hand-over socket belongs to user {0}{1}", users,
            _settings.RegistrationSecret.IsSet
                ? "; every registration must carry registration-secret, and workers without a hand-over socket are admitted with it"
                : "; workers without a reachable hand-over socket are refused (no registration-secret is set)");
    }

    private void OnRegister(Register register)
    {
        if (RegistrationChecks.Check(register, _settings.RegistrationSecret, _listening, out var address) is { } refusal)
        {
            Refuse(register.BaseAddress ?? "", refusal);
            return;
        }
        var worker = IdentifyOrAdmit(register, register.BaseAddress);
        if (worker is not null) AddAddress(register.BaseAddress, address!, worker, admittedNow: false, register.Shared);
    }

    private void AddAddress(string requested, BaseAddress address, RegisteredWorker worker, bool admittedNow, bool shared)
    {
        TakeOverFromRouterGone(address, worker);
        var result = _state.Workers.Add(address, worker, out var owner, shared);
        if (result == WorkerRegistrations.AddResult.TakenByAnother)
        {
            Refuse(requested, new(RefusalReason.AddressAlreadyInUse,
                $"Address already in use: {address} is already registered by worker {owner!.Describe()}" + (shared
                    ? " without share-addresses (an address is shared only when every worker holding it asks to share it)."
                    : ".")));
            if (admittedNow) RemoveWorker(worker, null);
            return;
        }

        // A worker resends registrations until answered; only the first one is news. A worker joining a shared
        // address this router holds already needs no claim in the cluster: the address is this router's.
        var holders = LocalHolderCount(address);
        if (result == WorkerRegistrations.AddResult.Added && holders > 1 && IsClaimPending(address))
        {
            // The cluster has not granted the address to this router yet: the worker joins once it has (its
            // Register is retried), so a refusal never leaves a joiner behind.
            _state.Workers.Remove(address, worker);
            return;
        }
        if (result == WorkerRegistrations.AddResult.Added && holders == 1 && ClaimInCluster(requested, address, worker, shared)) return;
        if (result == WorkerRegistrations.AddResult.AlreadyTheirs && IsClaimPending(address)) return;
        if (result == WorkerRegistrations.AddResult.Added)
        {
            if (holders == 1) _log.Info("Registered {0} for worker {1} ({2})", address, worker.Describe(), worker.HandoverMode);
            else _log.Info("Registered {0} for worker {1} ({2}), shared: {3} workers hold it now", address, worker.Describe(),
                worker.HandoverMode, holders);
            if (holders > 1) LocalHoldersChanged([address]);
            _metrics.UriRegistered();
            PublishRoutes();
            RouteParked();
        }
        worker.ReplyTo.Tell(new Registered(requested, worker.HandoverMode));
    }

    private void OnUnregister(Unregister unregister)
    {
        var requested = unregister.BaseAddress ?? "";
        if (!_settings.RegistrationSecret.Matches(unregister.Secret))
        {
            Refuse(requested, new(RefusalReason.NotAuthorized, "The router requires registration-secret and this Unregister does not carry it."));
            return;
        }

        // The owner must prove itself as for Register: by its channel token, or (no channel) by its actor reference.
        var owner = unregister.ChannelToken is { } token ? _state.Workers.ByToken(token) : _state.Workers.ByActor(Sender);
        if (owner is not null && BaseAddress.TryParse(requested, out var address, out _) && _state.Workers.Remove(address!, owner))
        {
            owner.ReplyTo = Sender;
            _log.Info("Unregistered {0} for worker {1}", address, owner.Describe());
            _metrics.UrisUnregistered(1);
            PublishRoutes();
            ReleaseInCluster(NoLongerHeld([address!]));
            LocalHoldersChanged(StillHeld([address!]));
            Sender.Tell(new Unregistered(requested));
        }
        else
        {
            Refuse(requested, new(RefusalReason.NotOwner, $"{requested} is not registered by this worker, so it cannot unregister it."));
        }
    }

    private bool TryRoute(Resolve resolve, IActorRef replyTo)
    {
        if (!_state.Workers.TryMatch(resolve.Via, resolve.LocalEndPoint, out var matched, out var holders)) return false;
        if (_silentNodes.Count > 0 || _placeholders.Count > 0)
        {
            holders = holders!.Where(h => IsRoutable(matched!, h)).ToList();
            // No holder may take it (every one is on a silent node): a shorter registration may match, as in the
            // published routes. (Other routers' holders held back for this router's own never empty the list.)
            if (holders.Count == 0) return TryRouteSnapshot(resolve, replyTo);
        }
        var owner = holders!.Count == 1 ? holders[0] : holders[_picker.Pick(holders.Select(h => h.Load).ToArray())];
        replyTo.Tell(new RouteFound(matched!.ToString(), owner.Endpoint, owner.PassSockets ? owner.Gateway : null));
        return true;
    }

    private bool TryRouteSnapshot(Resolve resolve, IActorRef replyTo)
    {
        if (!_routes.Current.TryMatch(resolve.Via, resolve.LocalEndPoint, out var target)) return false;
        replyTo.Tell(new RouteFound(target!.BaseAddress, target.Worker, target.Gateway));
        return true;
    }

    // A worker that shares addresses reports its connection count (coalesced by the worker); it proves itself as
    // for Unregister. A report from anyone else changes nothing and is not answered.
    private void OnConnectionLoad(ConnectionLoad load)
    {
        if (!_settings.RegistrationSecret.Matches(load.Secret)) return;
        var worker = load.ChannelToken is { } token ? _state.Workers.ByToken(token) : _state.Workers.ByActor(Sender);
        if (worker is null)
        {
            _log.Debug("Ignored a connection count from {0}: not an admitted worker", Sender.Path.Address);
            return;
        }
        worker.Load.Report(load.OpenConnections);
    }

    // A connection routed to a worker whose hand-over channel closed before it got there (the worker died): it goes
    // to another worker of its address when there is one (a shared address), through the listener as a connection
    // handed back; else its client gets ConnectionDispatchFailed, as the Windows service answers. The worker's
    // removal was told here before any such connection (its gateway says so as it stops), so the table no longer
    // names it.
    private void OnUndelivered(Undelivered undelivered)
    {
        var handOver = undelivered.HandOver;
        if (handOver.Resumed)
        {
            // Its client has had a PreambleAck: it cannot be read from its preamble again like a new connection.
            PassResumed(handOver.Socket, handOver.AlreadyRead, handOver.Via, holder: null, undelivered.Reason);
            return;
        }
        if (_state.Listener is { } listener && LocalEndPointOf(handOver.Socket) is { } local
            && _state.Workers.TryMatch(handOver.Via, local, out var matched, out _))
        {
            _log.Info("Passing {0} to another worker of {1}: {2}", handOver, matched, undelivered.Reason);
            HeldConnections.Get(Context.System).Release(handOver.Socket);
            listener.Tell(new Reroute(handOver.Socket, handOver.AlreadyRead));
            return;
        }
        _log.Warning("Could not pass {0} to a worker ({1}): ConnectionDispatchFailed", handOver, undelivered.Reason);
        _drains.Tell(new DrainAfterFault(handOver.Socket, FramingFaults.ConnectionDispatchFailed, handOver.Via));
    }

    private static System.Net.IPEndPoint? LocalEndPointOf(System.Net.Sockets.Socket socket)
    {
        try
        {
            return socket.LocalEndPoint as System.Net.IPEndPoint;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    // Of the addresses a worker let go, those no worker of this router holds any more (a shared one may still be).
    private IReadOnlyList<BaseAddress> NoLongerHeld(IReadOnlyList<BaseAddress> addresses) =>
        addresses.Where(a => LocalHolderCount(a) == 0).ToList();

    private IEnumerable<BaseAddress> StillHeld(IReadOnlyList<BaseAddress> addresses) =>
        addresses.Where(a => LocalHolderCount(a) > 0);

    // Every change of the address table is published at once, before anyone is told of it: the accept thread routes
    // on the published copy (RouteSnapshot) without asking, and this actor stays the one that decides.
    // An address still waiting for the cluster's grant is not published: its connections ask (TryRoute decides).
    // Nor is a worker on a cluster node that went silent (its association closed and it does not answer), nor
    // another router's holder of a shared address one of this router's own workers holds (IsRoutable).
    private void PublishRoutes() => _routes.Publish(RouteSnapshot.From(
        _claims.Count == 0 && _silentNodes.Count == 0 && _placeholders.Count == 0
            ? _state.Workers.Entries
            : _state.Workers.Entries.Where(e => !_claims.ContainsKey(e.Address) && IsRoutable(e.Address, e.Owner)),
        _settings.SharedAddressBalancing));

    // A registration arrived during the restart grace: the connections waiting for it go now.
    private void RouteParked()
    {
        if (_state.Parked.Count > 0) _state.Parked.RemoveAll(p => TryRoute(p.Resolve, p.ReplyTo));
    }

    private void EndRestartGrace()
    {
        if (_state.Parked.Count > 0)
            _log.Info("Restart grace over: {0} connection(s) still match no registration (EndpointNotFound)", _state.Parked.Count);
        foreach (var (resolve, replyTo) in _state.Parked) replyTo.Tell(new RouteNotFound(resolve.Via));
        _state.Parked.Clear();
        Become(Routing);
    }

    // A worker handed a connection back: the listener owns every connection actor (and its bounds apply), so
    // the socket goes there. It cannot be missing in a running router (the listener says so as it starts), but a
    // socket is never dropped unclosed: without a listener the client sees its connection close.
    private void OnReroute(Reroute reroute)
    {
        if (_state.Listener is { } listener)
        {
            listener.Tell(reroute);
            return;
        }
        _log.Warning("Closing a connection a worker handed back: no listener has started to route it");
        reroute.Socket.Dispose();
    }

    private void RemoveWorker(RegisteredWorker worker, string? reason)
    {
        if (_state.Workers.RemoveWorker(worker) is not { } removed) return;
        PublishRoutes();
        if (worker.Gateway is { } gateway) Context.Stop(gateway);
        else Context.Unwatch(worker.ReplyTo);
        _metrics.UrisUnregistered(removed.Count);
        ReleaseInCluster(NoLongerHeld(removed));
        LocalHoldersChanged(StillHeld(removed));
        if (reason is not null)
            _log.Warning("Worker {0} is gone ({1}): removed {2} address(es) {3}", worker.Describe(), reason,
                removed.Count, string.Join(", ", removed));
    }

    private void Refuse(string address, Refusal refusal)
    {
        _log.Warning("Refused registration of {0} by {1} ({2}): {3}", address, Sender.Path.Address, refusal.Reason, refusal.Message);
        Sender.Tell(new RegistrationRefused(address, refusal.Reason, refusal.Message));
    }
}
