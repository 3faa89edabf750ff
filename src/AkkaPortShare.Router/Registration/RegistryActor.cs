using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Interop;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Router.Configuration;
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
internal sealed class RegistryActor : ReceiveActor, IWithTimers
{
    private const int MaxAddressBytes = 2048;

    /// <summary>An admitted worker. Reference identity: it is the owner in the address table.</summary>
    private sealed class Worker(WorkerEndpoint endpoint, IActorRef replyTo, IActorRef? gateway, bool passSockets,
        SharedSecret? channelToken, uint? userId)
    {
        public WorkerEndpoint Endpoint { get; } = endpoint;

        /// <summary>Where answers go: the sender of the last command that proved to be this worker's.</summary>
        public IActorRef ReplyTo { get; set; } = replyTo;

        /// <summary>The worker's hand-over channel, kept for liveness (and the token) even when sockets are relayed.</summary>
        public IActorRef? Gateway { get; } = gateway;

        public bool PassSockets { get; } = passSockets;

        /// <summary>Sent through the hand-over socket; null for a worker without one (known by its actor reference).</summary>
        public SharedSecret? ChannelToken { get; } = channelToken;

        public string HandoverMode => PassSockets ? "fd" : "relay";

        /// <summary>The user its hand-over socket belongs to (SO_PEERCRED); null for a worker admitted by secret.</summary>
        public uint? UserId { get; } = userId;

        /// <summary>"pid 4242 (user 1000 (app))", for log lines and refusals.</summary>
        public string Describe() =>
            $"pid {Endpoint.ProcessId}" + (userId is { } uid ? $" (user {UnixUsers.Describe(uid)})" : " (user not checked)");
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RouterSettings _settings;
    private readonly IActorRef _drains;
    private readonly AddressTable<Worker> _table = new();
    private readonly Dictionary<IActorRef, Worker> _byActor = new();   // workers without a hand-over channel
    private readonly Dictionary<string, Worker> _byChannel = new();    // by hand-over socket path
    private readonly Dictionary<IActorRef, Worker> _byGateway = new();
    private readonly AdmissionsInFlight _admissions;
    private readonly RouterMetrics _metrics = RouterMetrics.Get(Context.System);
    private readonly List<(Resolve Resolve, IActorRef ReplyTo)> _parked = []; // during the restart grace only
    private IActorRef? _listener; // told by ListenerReady; takes every connection a worker hands back
    private TimeSpan _restartGrace;

    private sealed class RestartGraceEnded
    {
        public static readonly RestartGraceEnded Instance = new();
    }
    private readonly ListenEndPoint _listening;

    /// <summary>A hand-over socket check ended (<see cref="HandoverSocketCheck"/>); sent with the registrant as sender.</summary>
    /// <param name="Replayed">The same outcome, for a Register that waited for the check (not the check's own end).</param>
    private sealed record AdmissionChecked(string Path, Register Register, HandoverSocketCheck.Outcome Outcome, bool Replayed = false)
        : INoSerializationVerificationNeeded;

    /// <param name="drains">The fault-drains actor: every socket closed after a fault goes there.</param>
    /// <param name="restartGrace">After a restart on an inherited listening socket: how long a via that matches no
    /// registration waits for its worker to register again (see restart-grace); zero answers at once.</param>
    public static Props Props(RouterSettings settings, IActorRef drains, TimeSpan restartGrace = default) =>
        Akka.Actor.Props.Create(() => new RegistryActor(settings, drains, restartGrace));

    public ITimerScheduler Timers { get; set; } = null!;

    public RegistryActor(RouterSettings settings, IActorRef drains, TimeSpan restartGrace)
    {
        _settings = settings;
        _drains = drains;
        _admissions = new AdmissionsInFlight(settings.MaxConcurrentAdmissions);
        _listening = new ListenEndPoint(settings.ListenAddress, settings.Port);
        Receive<Register>(OnRegister);
        Receive<AdmissionChecked>(OnAdmissionChecked);
        Receive<Unregister>(OnUnregister);
        Receive<Resolve>(OnResolve);
        Receive<RestartGraceEnded>(_ => EndRestartGrace());
        _restartGrace = restartGrace;
        Receive<Terminated>(t =>
        {
            if (_byActor.TryGetValue(t.ActorRef, out var worker)) RemoveWorker(worker, "its actor system is unreachable or stopped");
        });
        Receive<WorkerChannelClosed>(c =>
        {
            if (_byGateway.TryGetValue(Sender, out var worker)) RemoveWorker(worker, c.Reason);
        });
        Receive<ListenerReady>(_ => _listener = Sender);
        Receive<Reroute>(OnReroute);
        Receive<RouterProtocol.GetRegistrations>(_ => Sender.Tell(new RouterProtocol.Registrations(
            _table.Entries.Select(e => new RouterProtocol.RegisteredAddress(
                e.Address.ToString(), e.Owner.Endpoint.ProcessId, e.Owner.HandoverMode)
            {
                UserId = e.Owner.UserId,
                HostName = e.Owner.Endpoint.HostName,
                ConnectionsRouted = _metrics.RoutedTo(e.Address.ToString()),
            }).ToList())));
    }

    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    protected override void PostStop() => _admissions.CancelAll();

    protected override void PreStart()
    {
        Context.ActorOf(UndeliveredHandoversActor.Props(_drains), "undelivered-handovers");
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
        // Registrations arrive over the network: a malformed one is refused, never a reason to fail.
        var requested = register.BaseAddress;
        if (requested is null || register.Worker is null)
        {
            Refuse(requested ?? "", RefusalReason.InvalidAddress, "A registration needs a base address and a worker endpoint.");
            return;
        }
        if (!_settings.RegistrationSecret.Matches(register.Secret))
        {
            Refuse(requested, RefusalReason.NotAuthorized, register.Secret is null
                ? "The router requires registration-secret and this registration carries none."
                : "The registration carries a wrong registration-secret.");
            return;
        }
        if (Encoding.UTF8.GetByteCount(requested) > MaxAddressBytes)
        {
            Refuse(requested, RefusalReason.PathTooLong, $"The address is longer than {MaxAddressBytes} bytes.");
            return;
        }
        if (!BaseAddress.TryParse(requested, out var address, out var error))
        {
            Refuse(requested, RefusalReason.InvalidAddress, error!);
            return;
        }
        if (_listening.Refusal(address) is { } notListening)
        {
            Refuse(requested, RefusalReason.NotListening, notListening);
            return;
        }

        var worker = IdentifyOrAdmit(register, requested);
        if (worker is not null) AddAddress(requested, address, worker, admittedNow: false);
    }

    private void AddAddress(string requested, BaseAddress address, Worker worker, bool admittedNow)
    {
        var added = _table.TryAdd(address, worker, out var owner) == RegistrationStatus.Success;
        if (!added && owner != worker)
        {
            Refuse(requested, RefusalReason.AddressAlreadyInUse,
                $"Address already in use: {address} is already registered by worker {owner!.Describe()}.");
            if (admittedNow) RemoveWorker(worker, null);
            return;
        }

        // A worker resends registrations until answered; only the first one is news.
        if (added) _log.Info("Registered {0} for worker {1} ({2})", address, worker.Describe(), worker.HandoverMode);
        if (added) _metrics.UriRegistered();
        if (added) RouteParked();
        worker.ReplyTo.Tell(new Registered(requested, worker.HandoverMode));
    }

    /// <summary>
    /// The admitted worker this Register speaks for, or null when it is refused or must first prove itself (its
    /// hand-over socket is being checked, or the channel token is on its way; the worker's retry carries it).
    /// </summary>
    private Worker? IdentifyOrAdmit(Register register, string requested)
    {
        if (_byActor.TryGetValue(Sender, out var known)) return known;

        var path = register.Worker.HandoverPath;
        if (!string.IsNullOrEmpty(path) && _admissions.Defer(path, register, Sender))
        {
            _log.Debug("Registration of {0} by {1} waits for the check of hand-over socket {2}", requested, Sender.Path.Address, path);
            return null;
        }
        if (!string.IsNullOrEmpty(path) && _byChannel.TryGetValue(path, out known))
        {
            if (register.ChannelToken is null)
            {
                // The worker's first Register crossed the token it has not received yet; its next one carries it.
                _log.Debug("Registration of {0} by {1} waits for the channel token of worker {2}", requested, Sender.Path.Address, known.Describe());
                return null;
            }
            if (!known.ChannelToken!.Matches(register.ChannelToken))
            {
                Refuse(requested, RefusalReason.NotAuthorized,
                    $"The registration names the hand-over socket of worker {known.Describe()} but does not carry the token sent through it.");
                return null;
            }
            known.ReplyTo = Sender;
            return known;
        }

        StartAdmission(register, requested);
        return null;
    }

    // A worker seen for the first time. With a hand-over socket, the check (HandoverSocketCheck: its pid must be the
    // one it claims, as the Windows service checks the registering pid; its user must be in allowed-worker-users,
    // the service's allowAccounts) runs off this actor and comes back as AdmissionChecked; meanwhile routing goes
    // on. Without one, the worker is decided here and now: nothing to wait for.
    private void StartAdmission(Register register, string requested)
    {
        var path = register.Worker.HandoverPath;
        UnixDomainSocketEndPoint? endPoint = null;
        var channelProblem = "it offers no hand-over socket";
        if (UnixHandover.IsSupported && path is not null)
        {
            try
            {
                ArgumentException.ThrowIfNullOrEmpty(path);
                endPoint = new UnixDomainSocketEndPoint(path);
            }
            catch (ArgumentException e)
            {
                // An empty path, or one longer than a Unix socket address holds (107 bytes).
                channelProblem = $"its hand-over socket path is not usable ({e.Message})";
            }
        }
        if (endPoint is null)
        {
            RegisterWithoutChannel(register, requested, channelProblem);
            return;
        }

        if (!_admissions.TryStart(path!, out var cancel))
        {
            Refuse(requested, RefusalReason.HandoverUnavailable,
                $"{_settings.MaxConcurrentAdmissions} hand-over socket checks are in flight (max-concurrent-admissions); " +
                "register again later.");
            return;
        }
        // Tell the registrant who is about to connect, so the worker can take its channel from this process only.
        Sender.Tell(new AdmissionStarted(requested, Environment.ProcessId, UnixHandover.CurrentUserId));
        HandoverSocketCheck
            .RunAsync(endPoint, path!, register.Worker.ProcessId, _settings.AllowedWorkerUserIds, _settings.AdmissionTimeout, cancel)
            .PipeTo(Self, Sender,
                success: outcome => new AdmissionChecked(path!, register, outcome),
                failure: e => new AdmissionChecked(path!, register, new HandoverSocketCheck.Unreachable(e.Message)));
    }

    // The check's outcome; Sender is the registrant again (PipeTo keeps it).
    private void OnAdmissionChecked(AdmissionChecked check)
    {
        var deferred = check.Replayed ? [] : _admissions.Finish(check.Path);
        var requested = check.Register.BaseAddress;
        switch (check.Outcome)
        {
            case HandoverSocketCheck.Refused refused:
                Refuse(requested, refused.Reason, refused.Message);
                break;
            case HandoverSocketCheck.Unreachable unreachable:
                RegisterWithoutChannel(check.Register, requested, unreachable.Problem);
                break;
            case HandoverSocketCheck.Passed passed:
                AdmitWithChannel(check.Register.Worker, passed);
                break;
        }
        // Registers that arrived while the check ran: after a pass they are handled afresh (the token's carrier
        // among them); otherwise they get the same answer, so a refused registrant cannot loop the check.
        foreach (var (register, sender) in deferred)
        {
            if (check.Outcome is HandoverSocketCheck.Passed) Self.Tell(register, sender);
            else Self.Tell(check with { Register = register, Replayed = true }, sender);
        }
    }

    private void AdmitWithChannel(WorkerEndpoint endpoint, HandoverSocketCheck.Passed passed)
    {
        var gateway = Context.ActorOf(WorkerGatewayActor.Props(passed.Channel, endpoint.ProcessId, _settings, _drains));
        var worker = new Worker(endpoint, Sender, gateway, _settings.HandoverMode != HandoverMode.Relay, passed.Token, passed.UserId);
        _byChannel[endpoint.HandoverPath!] = worker;
        _byGateway[gateway] = worker;
        _log.Info("Admitted worker {0}: its hand-over socket {1} checked, channel token sent", worker.Describe(), endpoint.HandoverPath);
    }

    // A worker whose user cannot be checked: relayed, and only with registration-secret (already checked in OnRegister).
    private void RegisterWithoutChannel(Register register, string requested, string channelProblem)
    {
        if (_byActor.TryGetValue(Sender, out var known))
            AddAddress(requested, BaseAddress.Parse(requested), known, admittedNow: false);
        else if (AdmitWithoutChannel(register, requested, channelProblem) is { } admitted)
            AddAddress(requested, BaseAddress.Parse(requested), admitted, admittedNow: true);
    }

    private Worker? AdmitWithoutChannel(Register register, string requested, string channelProblem)
    {
        if (_settings.HandoverMode == HandoverMode.Fd)
        {
            Refuse(requested, RefusalReason.HandoverUnavailable, $"handover-mode is fd but {channelProblem}.");
            return null;
        }
        if (!_settings.RegistrationSecret.IsSet)
        {
            Refuse(requested, RefusalReason.NotAuthorized,
                $"The user of worker pid {register.Worker.ProcessId} cannot be checked: {channelProblem}. Such workers need " +
                "registration-secret, and this router has none configured.");
            return null;
        }
        var worker = new Worker(register.Worker, Sender, null, false, null, null);
        _byActor[Sender] = worker;
        Context.Watch(Sender);
        _log.Info("Admitted worker {0} with registration-secret; it will be relayed: {1}", worker.Describe(), channelProblem);
        return worker;
    }

    private void OnUnregister(Unregister unregister)
    {
        var requested = unregister.BaseAddress ?? "";
        if (!_settings.RegistrationSecret.Matches(unregister.Secret))
        {
            Refuse(requested, RefusalReason.NotAuthorized, "The router requires registration-secret and this Unregister does not carry it.");
            return;
        }

        // The owner must prove itself as for Register: by its channel token, or (no channel) by its actor reference.
        var owner = unregister.ChannelToken is { } token
            ? _byChannel.Values.FirstOrDefault(w => w.ChannelToken!.Matches(token))
            : _byActor.GetValueOrDefault(Sender);
        if (owner is not null && BaseAddress.TryParse(requested, out var address, out _) && _table.TryRemove(address!, owner))
        {
            owner.ReplyTo = Sender;
            _log.Info("Unregistered {0} for worker {1}", address, owner.Describe());
            _metrics.UrisUnregistered(1);
            Sender.Tell(new Unregistered(requested));
        }
        else
        {
            Refuse(requested, RefusalReason.NotOwner, $"{requested} is not registered by this worker, so it cannot unregister it.");
        }
    }

    private void OnResolve(Resolve resolve)
    {
        if (TryRoute(resolve, Sender)) return;
        if (_restartGrace > TimeSpan.Zero) _parked.Add((resolve, Sender)); // bounded: each is a held connection
        else Sender.Tell(new RouteNotFound(resolve.Via));
    }

    private bool TryRoute(Resolve resolve, IActorRef replyTo)
    {
        if (!_table.TryMatch(resolve.Via, resolve.LocalEndPoint, out var matched, out var owner)) return false;
        replyTo.Tell(new RouteFound(matched!.ToString(), owner!.Endpoint, owner.PassSockets ? owner.Gateway : null));
        return true;
    }

    // A registration arrived during the restart grace: the connections waiting for it go now.
    private void RouteParked()
    {
        if (_parked.Count > 0) _parked.RemoveAll(p => TryRoute(p.Resolve, p.ReplyTo));
    }

    private void EndRestartGrace()
    {
        if (_parked.Count > 0)
            _log.Info("Restart grace over: {0} connection(s) still match no registration (EndpointNotFound)", _parked.Count);
        foreach (var (resolve, replyTo) in _parked) replyTo.Tell(new RouteNotFound(resolve.Via));
        _parked.Clear();
        _restartGrace = TimeSpan.Zero;
    }

    // A worker handed a connection back: the listener owns every connection actor (and its bounds apply), so
    // the socket goes there. It cannot be missing in a running router (the listener says so as it starts), but a
    // socket is never dropped unclosed: without a listener the client sees its connection close.
    private void OnReroute(Reroute reroute)
    {
        if (_listener is not null)
        {
            _listener.Tell(reroute);
            return;
        }
        _log.Warning("Closing a connection a worker handed back: no listener has started to route it");
        reroute.Socket.Dispose();
    }

    private void RemoveWorker(Worker worker, string? reason)
    {
        if (worker.ChannelToken is null)
        {
            if (!_byActor.Remove(worker.ReplyTo)) return;
            Context.Unwatch(worker.ReplyTo);
        }
        else
        {
            if (!_byChannel.Remove(worker.Endpoint.HandoverPath!)) return;
            _byGateway.Remove(worker.Gateway!);
            Context.Stop(worker.Gateway!);
        }
        var removed = _table.RemoveOwner(worker);
        _metrics.UrisUnregistered(removed.Count);
        if (reason is not null)
            _log.Warning("Worker {0} is gone ({1}): removed {2} address(es) {3}", worker.Describe(), reason,
                removed.Count, string.Join(", ", removed));
    }

    private void Refuse(string address, RefusalReason reason, string message)
    {
        _log.Warning("Refused registration of {0} by {1} ({2}): {3}", address, Sender.Path.Address, reason, message);
        Sender.Tell(new RegistrationRefused(address, reason, message));
    }
}
