using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using Akka.Remote;
using AkkaPortShare.Contracts.Hosting;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Interop;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Worker.Configuration;
using AkkaPortShare.Worker.Hosting;
using AkkaPortShare.Worker.Listening;
using AkkaPortShare.Worker.Security;
using AkkaPortShare.Worker.Sessions;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Worker.WorkerProtocol;

namespace AkkaPortShare.Worker.Registration;

/// <summary>
/// A worker process's presence at the router. It opens the worker's own listener and its hand-over socket,
/// registers every configured base address with the router's registry (retrying with back-off until answered),
/// and starts a <see cref="SessionConnectionActor"/> for each connection that arrives. When the router goes away
/// (its hand-over channel closes, or the Akka.Remote association with it ends) registrations go back to pending
/// and are retried, so a restarted router gets them again without anyone restarting the worker.
/// It fails fast instead of serving nothing: when not every address is registered within start-timeout of the
/// start (exit 69), and when the router refuses a registration (exit 76, unless exit-on-refusal is off).
/// </summary>
internal sealed partial class WorkerActor : ReceiveActor, IWithTimers
{
    private sealed class RetryRegistrations { public static readonly RetryRegistrations Instance = new(); }
    private sealed record RouterLost(RouterChannel? Channel, string Reason);
    private sealed record VerifyTimedOut(RouterChannel Channel);
    private sealed class StartTimedOut { public static readonly StartTimedOut Instance = new(); }
    private sealed class ReportLoad { public static readonly ReportLoad Instance = new(); }

    /// <summary>Shutdown to worker: give every address back to the router; answered with Done once it has them all.</summary>
    internal sealed class Leave { public static readonly Leave Instance = new(); }

    /// <summary>
    /// The whole mutable state: where each address stands, the current retry interval, and (share-addresses) the
    /// connection count the router last heard (-1: none yet).
    /// </summary>
    private readonly record struct State(ImmutableDictionary<string, AddressStatus> Addresses, TimeSpan Backoff, int LoadReported = -1);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly WorkerSettings _settings;
    private readonly IReadOnlyList<(string Address, Props Service)> _services;
    private readonly ServiceRoutes _routes = new();
    private readonly IReadOnlyDictionary<string, StreamUpgradeAcceptor> _tls;
    private readonly CancellationTokenSource _stopping = new();
    private ActorSelection _registry; // the configured router's; another router's after it left the cluster
    private Address _routerAddress;
    private readonly RouterChannelGate _gate;
    private readonly Action<ActorSystem, int, string> _exit;
    private State _state;
    private Socket? _dataListener;
    private Socket? _handoverListener;
    private string? _handoverPath;
    private WorkerEndpoint? _endpoint;
    private ConnectionSources.TokenArrived? _channelToken; // proves our registrations come from this process
    private readonly List<IActorRef> _leaveAskers = [];

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="exit">Ends the process with an exit code and a cause (tests); by default <see cref="WorkerExit.Run"/>.</param>
    /// <param name="tls">The secured addresses' TLS, read before the start (see SecuredEndpoints); absent: plain.</param>
    public static Props Props(WorkerSettings settings, IReadOnlyList<(string Address, Props Service)> services,
        Action<ActorSystem, int, string>? exit = null, IReadOnlyDictionary<string, StreamUpgradeAcceptor>? tls = null) =>
        Akka.Actor.Props.Create(() => new WorkerActor(settings, services, exit ?? WorkerExit.Run, tls));

    public WorkerActor(WorkerSettings settings, IReadOnlyList<(string Address, Props Service)> services,
        Action<ActorSystem, int, string> exit, IReadOnlyDictionary<string, StreamUpgradeAcceptor>? tls)
    {
        _settings = settings;
        _services = services;
        _tls = tls ?? new Dictionary<string, StreamUpgradeAcceptor>();
        _exit = exit;
        _registry = Context.ActorSelection(settings.Router + RegistryProtocol.RegistryPath);
        _routerAddress = _registry.Anchor.Path.Address; // not Address.Parse: it lower-cases the system name
        _gate = new RouterChannelGate(settings.MaxUnverifiedHandoverChannels, settings.HandoverVerifyTimeout,
            settings.AllowedRouterUserIds, _log,
            OpenRouterChannel, channel => Timers.Cancel(channel));
        _state = new State(
            services.ToImmutableDictionary(s => s.Address, s => new AddressStatus(s.Address, RegistrationState.Pending, null)),
            settings.RetryMinBackoff);

        Receive<Registered>(OnRegistered);
        Receive<RegistrationRefused>(OnRefused);
        Receive<RetryRegistrations>(_ => SendPendingRegistrations());
        Receive<StartTimedOut>(_ => OnStartTimedOut());
        Receive<ConnectionSources.TokenArrived>(OnTokenArrived);
        Receive<RouterLost>(l =>
        {
            if (l.Channel is not null && _channelToken?.Channel == l.Channel) _channelToken = null;
            OnRouterLost(l.Reason);
        });
        // Not DeathWatch: the router refuses every system message from the network (Watch included), so a watch
        // of its registry would never fire. The end of the association says the router's process is gone; it is
        // all a worker without a hand-over channel has, and a second signal for one with a channel.
        Receive<DisassociatedEvent>(d =>
        {
            if (d.RemoteAddress == _routerAddress) OnRouterLost("the association with the router ended");
        });
        Receive<Leave>(_ => OnLeave());
        Receive<ReportLoad>(_ => OnReportLoad());
        ReceiveClusterEvents();
        ReceiveConnections();
    }

    /// <summary>
    /// Shutting down: the addresses are being given back (Unregister), so the router sends new connections to a
    /// worker that registers them next; connections already here, and any the router sends meanwhile, are served.
    /// Nothing is registered again, and neither a refusal nor start-timeout ends the process now.
    /// </summary>
    private void Leaving()
    {
        Receive<Unregistered>(u => Unregistering(u.BaseAddress, RegistrationState.Unregistered, "unregistered at shutdown"));
        Receive<RegistrationRefused>(r => Unregistering(r.BaseAddress, RegistrationState.Unregistered, $"{r.Reason}: {r.Message}"));
        Receive<Registered>(r =>
        {
            // A Register sent before Leave was answered after it: give this one back too.
            if (!_state.Addresses.ContainsKey(r.BaseAddress)) return;
            SetState(r.BaseAddress, RegistrationState.Registered, r.HandoverMode);
            SendUnregister(r.BaseAddress);
        });
        Receive<ConnectionSources.TokenArrived>(t => _channelToken = t);
        Receive<RouterLost>(l =>
        {
            // Nothing to give back to a router that has gone: its registrations went with it.
            foreach (var address in _state.Addresses.Values.Where(a => a.State == RegistrationState.Registered))
                Unregistering(address.BaseAddress, RegistrationState.Unregistered, l.Reason);
        });
        Receive<Leave>(_ => _leaveAskers.Add(Sender));
        Receive<RetryRegistrations>(_ => { });
        Receive<StartTimedOut>(_ => { });
        Receive<ReportLoad>(_ => { });
        Receive<DisassociatedEvent>(_ => { });
        Receive<Akka.Cluster.ClusterEvent.MemberRemoved>(_ => { }); // shutting down: staying with the router it has
        ReceiveConnections();
    }

    // What the worker does in every state: serve the connections that arrive, and answer the router's channel.
    private void ReceiveConnections()
    {
        ReceiveSessionHolderLookups();
        Receive<ConnectionSources.Arrived>(a =>
            Context.ActorOf(SessionConnectionActor.Props(a.Socket, a.AlreadyRead, a.Channel, _routes, _settings, a.Resumed)));
        Receive<ConnectionSources.ChannelAccepted>(a =>
        {
            if (_gate.Accepted(a)) Timers.StartSingleTimer(a.Channel, new VerifyTimedOut(a.Channel), _settings.HandoverVerifyTimeout);
        });
        Receive<AdmissionStarted>(OnAdmissionStarted);
        Receive<VerifyTimedOut>(t => _gate.WaitEnded(t.Channel));
        Receive<GetStatus>(_ => Sender.Tell(new WorkerStatus(_state.Addresses.Values.ToList(),
            ((IPEndPoint)_dataListener!.LocalEndPoint!).Port, _handoverPath)));
    }

    // Sessions are per connection: one that fails is closed, never restarted on the same socket.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
        Sender.Path.Name.StartsWith("service-", StringComparison.Ordinal) ? Directive.Restart : Directive.Stop);

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));
        for (var i = 0; i < _services.Count; i++)
            _routes.Add(BaseAddress.Parse(_services[i].Address), Context.ActorOf(_services[i].Service, $"service-{i}"),
                _tls.GetValueOrDefault(_services[i].Address));

        var self = Self;
        _dataListener = ConnectionSources.ListenTcp(_settings.DataHostname, _settings.DataPort, _settings.TcpMaxSegmentSize, _settings.DataListenBacklog);
        _ = ConnectionSources.AcceptDataConnections(_dataListener, a => self.Tell(a), _stopping.Token);

        if (UnixHandover.IsSupported)
        {
            // The host prepared it already (to fail its start with the reason); an actor started on its own has not.
            HandoverDirectory.Prepare(_settings, _log);
            _handoverPath = HandoverDirectory.NewSocketPath(_settings.HandoverDirectory);
            _handoverListener = UnixHandover.Listen(_handoverPath, mode: _settings.HandoverSocketMode);
            SessionRouting.For(Context.System).Set(SessionRouteKey.ForWorker(_handoverPath));
            _ = ConnectionSources.AcceptRouterChannels(_handoverListener, a => self.Tell(a), _stopping.Token);
        }

        var dataPort = ((IPEndPoint)_dataListener.LocalEndPoint!).Port;
        _endpoint = new WorkerEndpoint(Environment.ProcessId, Dns.GetHostName(), _handoverPath, _settings.DataHostname, dataPort);
        _log.Info("Worker pid {0} listening on {1}:{2}, hand-over socket {3}", Environment.ProcessId,
            _settings.DataHostname, dataPort, _handoverPath ?? "(none: relay only)");
        if (_settings.StartTimeout > TimeSpan.Zero && _services.Count > 0)
            Timers.StartSingleTimer(StartTimedOut.Instance, StartTimedOut.Instance, _settings.StartTimeout);
        SendPendingRegistrations();
        AddGracefulDrain();
        if (_settings.ShareAddresses)
            Timers.StartPeriodicTimer(ReportLoad.Instance, ReportLoad.Instance, _settings.LoadReportInterval);
        JoinAsClusterMember();
    }

    // SIGTERM (CoordinatedShutdown): first give the addresses back (service-unbind), so that new connections go to
    // a replacement worker once it registers; then wait for the sessions in progress to end, up to drain-timeout
    // (service-requests-done; reliable sessions have their own drain in the same phase), before the actors stop.
    private void AddGracefulDrain()
    {
        var self = Self;
        var system = Context.System;
        var log = _log;
        var drainTimeout = _settings.DrainTimeout;
        var shutdown = CoordinatedShutdown.Get(system);
        var unbindTimeout = shutdown.Timeout(CoordinatedShutdown.PhaseServiceUnbind);
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceUnbind, $"port-share-worker-unregister-{Guid.NewGuid():N}", async () =>
        {
            try
            {
                await self.Ask<Akka.Done>(Leave.Instance, unbindTimeout - TimeSpan.FromMilliseconds(250));
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                log.Warning("Not every address was unregistered within {0} (the router did not answer); the router " +
                    "removes them when this process has gone", unbindTimeout);
            }
            return Akka.Done.Instance;
        });
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, $"port-share-worker-drain-{Guid.NewGuid():N}", async () =>
        {
            var metrics = Diagnostics.WorkerMetrics.Get(system);
            if (metrics.SessionsActive > 0) log.Info("Waiting for {0} session(s) to end (drain-timeout {1})", metrics.SessionsActive, drainTimeout);
            if (await ShutdownDrain.WaitAsync(() => metrics.SessionsActive, drainTimeout) is var left and > 0)
                log.Warning("drain-timeout {0} passed with {1} session(s) still open; they are closed", drainTimeout, left);
            return Akka.Done.Instance;
        });
    }

    private void OnLeave()
    {
        Timers.Cancel(RetryRegistrations.Instance);
        Timers.Cancel(StartTimedOut.Instance);
        Timers.Cancel(ReportLoad.Instance);
        _leaveAskers.Add(Sender);
        Become(Leaving);
        var registered = _state.Addresses.Values.Where(a => a.State == RegistrationState.Registered).ToList();
        foreach (var address in _state.Addresses.Values.Where(a => a.State == RegistrationState.Pending))
            SetState(address.BaseAddress, RegistrationState.Unregistered, "shutting down before it was registered");
        _log.Info("Shutting down: unregistering {0} address(es) so that new connections go to the next worker", registered.Count);
        foreach (var address in registered) SendUnregister(address.BaseAddress);
        AnswerLeaveWhenDone();
    }

    private void SendUnregister(string address) =>
        _registry.Tell(new Unregister(address, _settings.RegistrationSecret.Value, _channelToken?.Token));

    private void Unregistering(string address, RegistrationState state, string detail)
    {
        if (!_state.Addresses.TryGetValue(address, out var status) || status.State != RegistrationState.Registered) return;
        SetState(address, state, detail);
        _log.Info("Unregistered {0} ({1})", address, detail);
        AnswerLeaveWhenDone();
    }

    private void AnswerLeaveWhenDone()
    {
        if (_state.Addresses.Values.Any(a => a.State == RegistrationState.Registered)) return;
        if (_settings.ShareAddresses && !_routes.HandingBack)
        {
            _routes.HandBackNewSessions();
            _log.Info("Addresses given back: the next session of each pooled connection goes back to the router for another worker");
        }
        foreach (var asker in _leaveAskers) asker.Tell(Akka.Done.Instance);
        _leaveAskers.Clear();
    }

    private void SendPendingRegistrations()
    {
        if (!SendRegisters()) return;
        Timers.StartSingleTimer(RetryRegistrations.Instance, RetryRegistrations.Instance, _state.Backoff);
        var next = TimeSpan.FromTicks(Math.Min(_state.Backoff.Ticks * 2, _settings.RetryMaxBackoff.Ticks));
        _state = _state with { Backoff = next };
    }

    /// <summary>Sends Register for every pending address; false when none is pending.</summary>
    private bool SendRegisters()
    {
        var pending = _state.Addresses.Values.Where(a => a.State == RegistrationState.Pending).ToList();
        foreach (var address in pending)
            _registry.Tell(new Register(address.BaseAddress, _endpoint!, _settings.RegistrationSecret.Value, _channelToken?.Token,
                _settings.ShareAddresses));
        return pending.Count > 0;
    }

    // Only now is anything read from the channel: the gate matched its peer with the router process.
    private void OpenRouterChannel(RouterChannel channel)
    {
        var self = Self;
        ConnectionSources.ReceiveFromRouter(channel, a => self.Tell(a), t => self.Tell(t),
            (c, reason) => self.Tell(new RouterLost(c, reason)), _stopping.Token);
    }

    // The registry names the process about to connect to our hand-over socket. Akka.Remote does not authenticate
    // senders, so this is taken only from the configured router's address (a guard against mistakes and strays; a
    // forged sender is kept out by the router's and workers' remoting transport, e.g. TLS).
    private void OnAdmissionStarted(AdmissionStarted started)
    {
        if (!Sender.Path.Address.Equals(_routerAddress) || !_state.Addresses.ContainsKey(started.BaseAddress ?? ""))
        {
            _log.Warning("Ignored AdmissionStarted {0} from {1}: only the router {2} announces itself, for addresses this worker registers",
                started, Sender.Path, _routerAddress);
            return;
        }
        _gate.Announced(new RouterChannelGate.RouterProcess(started.RouterProcessId, started.RouterUserId));
    }

    // The router checked who listens on our hand-over socket and sent this token through it: registrations that
    // carry it are ours. Send them at once rather than at the next retry.
    private void OnTokenArrived(ConnectionSources.TokenArrived token)
    {
        _channelToken = token;
        _log.Debug("The router sent its channel token through the hand-over socket");
        SendRegisters();
    }

    private void OnRegistered(Registered registered)
    {
        if (!_state.Addresses.ContainsKey(registered.BaseAddress)) return;
        if (_state.Addresses[registered.BaseAddress].State != RegistrationState.Registered)
            _log.Info("Registered {0} with the router ({1})", registered.BaseAddress, registered.HandoverMode);
        SetState(registered.BaseAddress, RegistrationState.Registered, registered.HandoverMode);
        EndStartWhenSettled();
    }

    // Every address answered for good: no more retries, and the start is over (a router lost from now on is waited
    // for as long as it takes, so start-timeout never applies again).
    private void EndStartWhenSettled()
    {
        if (_state.Addresses.Values.Any(a => a.State == RegistrationState.Pending)) return;
        Timers.Cancel(StartTimedOut.Instance);
        Timers.Cancel(RetryRegistrations.Instance);
        _state = _state with { Backoff = _settings.RetryMinBackoff };
    }

    private void OnRefused(RegistrationRefused refused)
    {
        if (!_state.Addresses.ContainsKey(refused.BaseAddress)) return;
        if (refused.Reason == RefusalReason.HandoverUnavailable)
        {
            // The router could not check our hand-over socket now (its admission slots busy, a check timed out):
            // not a verdict on this worker, and giving up would let whoever fills those slots keep us out.
            _log.Warning("Registration of {0} not checked yet ({1}): {2}; registering again", refused.BaseAddress,
                refused.Reason, refused.Message);
            if (_state.Addresses[refused.BaseAddress].State == RegistrationState.Pending) // kept for start-timeout's line
                SetState(refused.BaseAddress, RegistrationState.Pending, $"{refused.Reason}: {refused.Message}");
            if (!Timers.IsTimerActive(RetryRegistrations.Instance))
                Timers.StartSingleTimer(RetryRegistrations.Instance, RetryRegistrations.Instance, _state.Backoff);
            return;
        }
        SetState(refused.BaseAddress, RegistrationState.Refused, $"{refused.Reason}: {refused.Message}");
        if (!_settings.ExitOnRefusal)
        {
            _log.Error("Registration of {0} refused by the router {1} ({2}): {3}; serving the other addresses " +
                "({4}.exit-on-refusal = off)", refused.BaseAddress, _settings.Router, refused.Reason, refused.Message, WorkerSettings.ConfigPath);
            EndStartWhenSettled();
            return;
        }
        _log.Error("Registration of {0} refused by the router {1} ({2}): {3}; the worker exits with code {4} " +
            "({5}.exit-on-refusal = on)", refused.BaseAddress, _settings.Router, refused.Reason, refused.Message,
            WorkerExit.Refused, WorkerSettings.ConfigPath);
        Exit(WorkerExit.Refused, $"registration of {refused.BaseAddress} refused ({refused.Reason})");
    }

    private void OnStartTimedOut()
    {
        var pending = _state.Addresses.Values.Where(a => a.State == RegistrationState.Pending).ToList();
        if (pending.Count == 0) return;
        var last = pending.Select(a => a.Detail).FirstOrDefault(d => d is not null);
        _log.Error("The router {0} did not register {1} within {2} ({3}.start-timeout; last answer: {4}); the worker " +
            "exits with code {5}", _settings.Router, string.Join(", ", pending.Select(a => a.BaseAddress)),
            _settings.StartTimeout, WorkerSettings.ConfigPath, last ?? "none, the router is unreachable", WorkerExit.RouterUnavailable);
        Exit(WorkerExit.RouterUnavailable, $"the router {_settings.Router} did not register {pending.Count} address(es) within start-timeout");
    }

    private void Exit(int code, string cause)
    {
        Timers.CancelAll();
        _exit(Context.System, code, cause);
    }

    private void OnRouterLost(string reason)
    {
        if (_stopping.IsCancellationRequested) return;
        var registered = _state.Addresses.Values.Where(a => a.State == RegistrationState.Registered).ToList();
        if (registered.Count == 0) return;
        _log.Warning("Lost the router ({0}); registering {1} address(es) again", reason, registered.Count);
        foreach (var address in registered) SetState(address.BaseAddress, RegistrationState.Pending, reason);
        _state = _state with { Backoff = _settings.RetryMinBackoff, LoadReported = -1 }; // the next router hears the count afresh
        Timers.StartSingleTimer(RetryRegistrations.Instance, RetryRegistrations.Instance, _state.Backoff);
    }

    // share-addresses: the connection count, when it changed since the router last heard it and the router has at
    // least one of our addresses (one message per load-report-interval at most, none while nothing changes).
    private void OnReportLoad()
    {
        var open = Sessions.ConnectionBudget.For(Context.System).Connections;
        if (open == _state.LoadReported || !_state.Addresses.Values.Any(a => a.State == RegistrationState.Registered)) return;
        _registry.Tell(new ConnectionLoad(open, _settings.RegistrationSecret.Value, _channelToken?.Token));
        _state = _state with { LoadReported = open };
    }

    private void SetState(string address, RegistrationState state, string? detail) =>
        _state = _state with { Addresses = _state.Addresses.SetItem(address, new AddressStatus(address, state, detail)) };

    protected override void PostStop()
    {
        _cluster?.Unsubscribe(Self);
        _stopping.Cancel();
        _dataListener?.Dispose();
        _handoverListener?.Dispose();
        _gate.CloseAll();
        if (_handoverPath is not null) File.Delete(_handoverPath);
    }
}
