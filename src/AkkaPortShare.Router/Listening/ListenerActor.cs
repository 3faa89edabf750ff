using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Interop;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Diagnostics;
using AkkaPortShare.Router.Hosting;
using AkkaPortShare.Router.Registration;
using AkkaPortShare.Router.Relay;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Listening;

/// <summary>
/// Owns the shared port and every connection actor. One accept thread (<see cref="AcceptThread"/>) runs outside the
/// mailbox and survives per-connection errors. An accepted socket whose first bytes decide its route (the whole
/// preamble, a via the registry's published routes give a gateway) is handed over by the accept thread itself
/// (<see cref="DirectHandover"/>): no message to this actor, no connection actor. One whose preamble had not all
/// arrived waits for it briefly outside any actor (<see cref="PreambleWaits"/>) and is handed over from there when
/// its bytes decide it. Every other one, and each one a worker hands back (through the registry), becomes a
/// <see cref="ConnectionActor"/> child. The unrouted ones are kept in arrival order and the oldest is shed when
/// max-pending-connections is reached.
/// </summary>
/// <remarks>
/// <para>
/// Under attack three things keep this bounded and fair. The accept thread waits for this actor to take each socket
/// it could not hand over (at most max-pending-accepts are accepted and not yet taken), so a flood of connections
/// waits in the kernel's backlog rather than as open sockets in a mailbox. A connection whose preamble has arrived,
/// whether or not the router has got round to it, is never shed: only connections waiting for their client are (see
/// <see cref="PendingConnections"/>). And the one shed comes from the source address holding the most unrouted
/// connections, so one address trickling thousands of connections pushes out its own, not other clients'.
/// </para>
/// <para>
/// Two behaviours: <see cref="Accepting"/>, then <see cref="NotAccepting"/> after <see cref="StopAccepting"/>
/// (sockets accepted meanwhile, and hand-backs, are still routed). What arrived with a socket is read and decoded
/// here once (<see cref="PreambleRead"/>) and passed to its connection actor.
/// </para>
/// </remarks>
internal sealed class ListenerActor : ReceiveActor
{
    /// <param name="Preamble">What the accept loop (or the preamble wait) read of it: not enough to hand it over from there.</param>
    /// <param name="AcceptedAt">Its accept (Stopwatch timestamp): the shedding order.</param>
    /// <param name="FromAcceptLoop">The accept loop waits for this actor to take it (the gate). Else it comes from a
    /// preamble wait, and receive-timeout counts from its accept.</param>
    private sealed record Accepted(Socket Socket, PreambleRead Preamble, long AcceptedAt, bool FromAcceptLoop)
        : INoSerializationVerificationNeeded;

    /// <summary>A shed connection's actor stopped: the accept permit its shed held goes back.</summary>
    private sealed record ShedClosed;

    /// <param name="ListenSocket">Set once the port is open (PreStart).</param>
    /// <param name="Pending">The connections counted against max-pending-connections.</param>
    private sealed record State(Socket? ListenSocket, PendingConnections Pending);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RouterSettings _settings;
    private readonly IActorRef _registry;
    private readonly IActorRef _drains;
    private readonly CancellationTokenSource _stopping = new();
    private readonly AcceptPermits _acceptGate;
    private readonly HeldConnections _held = HeldConnections.Get(Context.System);
    private readonly RouterMetrics _metrics = RouterMetrics.Get(Context.System);
    private readonly SharedPort? _sharedPort;
    private PreambleWaits? _waits; // set in PreStart
    private State _state;

    /// <param name="sharedPort">The listening socket, opened (or inherited) before the actor system started; it
    /// outlives this actor, so a restart of the listener never closes the port. Null: the listener binds its own.</param>
    public static Props Props(RouterSettings settings, IActorRef registry, IActorRef drains, SharedPort? sharedPort = null) =>
        Akka.Actor.Props.Create(() => new ListenerActor(settings, registry, drains, sharedPort));

    public ListenerActor(RouterSettings settings, IActorRef registry, IActorRef drains, SharedPort? sharedPort)
    {
        _sharedPort = sharedPort;
        _settings = settings;
        _registry = registry;
        _drains = drains;
        _acceptGate = new AcceptPermits(settings.MaxPendingAccepts);
        _state = new State(null, new PendingConnections(_held));
        Accepting();
    }

    private void Accepting()
    {
        Receive<StopAccepting>(_ =>
        {
            _log.Info("Stopped accepting on {0}; routing the {1} connection(s) already accepted", _state.ListenSocket?.LocalEndPoint, _held.Count);
            _stopping.Cancel(); // the accept thread ends; a socket accepted meanwhile still arrives and is routed
            Become(NotAccepting);
            Sender.Tell(Akka.Done.Instance);
        });
        ReceiveConnections(accepting: true);
    }

    private void NotAccepting()
    {
        Receive<StopAccepting>(_ => Sender.Tell(Akka.Done.Instance));
        ReceiveConnections(accepting: false);
    }

    private void ReceiveConnections(bool accepting)
    {
        Receive<Accepted>(OnAccepted);
        Receive<ShedClosed>(_ => OnShedClosed());
        Receive<Reroute>(OnReroute);
        Receive<RouterProtocol.GetListenerStatus>(_ => Sender.Tell(new RouterProtocol.ListenerStatus(
            (IPEndPoint)_state.ListenSocket!.LocalEndPoint!, _state.Pending.Count() + (_waits?.Count ?? 0))
        {
            HeldConnections = _held.Count,
            RelayedConnections = _held.Relayed,
            Accepting = accepting,
        }));
    }

    // A connection actor that fails is a lost connection, never a reason to restart it on the same socket.
    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    protected override void PreStart()
    {
        Socket socket;
        try
        {
            socket = _sharedPort?.Socket ?? SharedPort.Open(_settings).Socket;
        }
        catch (CannotListenException e)
        {
            _log.Error(e.Message); // the one line that says why; the watchdog then ends the router
            throw;
        }
        TcpSegmentSize.Cap(socket, _settings.TcpMaxSegmentSize);
        TcpDeferAccept.Set(socket, _settings.DeferAccept); // also on an inherited port: the option applies at once
        _state = _state with { ListenSocket = socket };
        _registry.Tell(ListenerReady.Instance); // hand-backs come here, so every connection actor is a child
        _log.Info("Listening on {0}{1} (backlog {2}, {3} pending accepts, at most {4} unrouted and {5} held connections)",
            socket.LocalEndPoint, _sharedPort?.Origin is { } origin ? $" (socket {origin})" : "", _settings.ListenBacklog, _settings.MaxPendingAccepts, _settings.MaxPendingConnections,
            _settings.MaxHeldConnections);
        var room = new HeldRoom(_held, _settings.MaxHeldConnections, _settings.HeldPollInterval, _log);
        var accepted = new DirectHandover(_settings, RouteSnapshots.Get(Context.System), _held, _metrics, _log,
            RelayEngines.Get(Context.System, _settings).Handoff(Context.System, _drains));
        var self = Self;
        // Never longer than receive-timeout, which counts from the accept.
        var wait = _settings.PreambleWait < _settings.ReceiveTimeout ? _settings.PreambleWait : _settings.ReceiveTimeout;
        _waits = new PreambleWaits(wait, PreambleWaits.BoundFor(_settings.MaxPendingConnections), _settings.MaxPendingConnections, accepted,
            (s, preamble, acceptedAt) => self.Tell(new Accepted(s, preamble, acceptedAt, FromAcceptLoop: false)),
            _log);
        var (gate, waits, log) = (_acceptGate, _waits, _log);
        // Blocking, and never used asynchronously: the accept thread's accept is then the plain system call (an
        // inherited port may come non-blocking). Cancelling _stopping ends the thread within a poll slice; it never
        // closes the port.
        socket.Blocking = true;
        AcceptThread.Start(socket, gate, room, s => Take(s, gate, accepted, waits, self, log), log, _stopping.Token);
    }

    // On the accept thread, for each socket it accepted (it holds one gate permit for it).
    private static void Take(Socket socket, AcceptPermits gate, DirectHandover accepted, PreambleWaits waits, IActorRef self,
        ILoggingAdapter log)
    {
        // Handed over from here when its first bytes decide it (the common case): nothing for this actor then.
        PreambleRead? preamble;
        long acceptedAt = 0;
        try
        {
            preamble = accepted.Take(socket, out acceptedAt);
            // Not all there yet: it waits for its bytes outside this thread and any actor, when there is room.
            if (preamble is not null && waits.TryTake(socket, preamble, acceptedAt)) preamble = null;
        }
        catch (Exception e)
        {
            // A bug, not the client's doing: that connection is lost, never the accept thread.
            log.Error(e, "Taking an accepted connection failed; closing it");
            accepted.Abandon(socket);
            gate.Release();
            return;
        }
        // The actor releases the gate as it takes it.
        if (preamble is not null) self.Tell(new Accepted(socket, preamble, acceptedAt, FromAcceptLoop: true));
        else gate.Release();
    }

    private void OnAccepted(Accepted accepted)
    {
        // Held already: the accept loop holds every socket from its accept (DirectHandover.Take).
        if (accepted.FromAcceptLoop) _acceptGate.Release();
        var waited = accepted.FromAcceptLoop ? TimeSpan.Zero : Stopwatch.GetElapsedTime(accepted.AcceptedAt);
        Route(accepted.Socket, accepted.Preamble, accepted.AcceptedAt, waited);
    }

    // Handed back by a worker: the router holds it again (the held bound counts it; it cannot be refused), and it
    // is pending like an accepted connection while its preamble is incomplete.
    private void OnReroute(Reroute reroute)
    {
        _held.Hold(reroute.Socket, HeldStage.ReadingPreamble);
        Route(reroute.Socket, PreambleRead.From(reroute.AlreadyRead, _settings), Stopwatch.GetTimestamp(), TimeSpan.Zero);
    }

    // A connection whose bytes already decide its routing (a complete preamble up to the encoding, or a broken
    // one) waits for nothing but its turn: it never counts as pending, nor makes room.
    private void Route(Socket socket, PreambleRead preamble, long acceptedAt, TimeSpan waited)
    {
        var connection = Context.ActorOf(ConnectionActor.Props(socket, _registry, _drains, _settings, preamble, waited));
        if (preamble.Decided) return;
        // Added first, then one shed beyond the bound: a connection that waited for its preamble outside this actor
        // (PreambleWaits) may be older than every one here, and then it is the one to shed.
        _state.Pending.Add(socket, connection, acceptedAt);
        var bound = _settings.MaxPendingConnections;
        if (_state.Pending.IsFull(bound + 1)) ShedOne();
        else if (_waits is { Count: > 0 } waits && _state.Pending.CountAtMost + waits.Count > bound
                 && _state.Pending.Count() + waits.Count > bound)
            waits.ReleaseAll(); // at the bound with some still waiting: they come here now, to be shed in accept order
        _waits?.ListenerPending(_state.Pending.CountAtMost);
    }

    // Connections that moved on no longer count (IsFull dropped them); if that freed no room, one is shed.
    // Its socket stays open until its actor has stopped: while it closes, the shed holds an accept permit (a free
    // one, or the next given back; returned at its Terminated), so a flood is not accepted faster than shed
    // connections let go of their descriptors.
    private void ShedOne()
    {
        var victim = _state.Pending.TakeVictim();
        victim.Tell(Shed.Instance);
        _metrics.Shed();
        _acceptGate.TakeForShed();
        Context.WatchWith(victim, new ShedClosed());
    }

    private void OnShedClosed() => _acceptGate.Release();

    protected override void PostStop()
    {
        _stopping.Cancel();
        _waits?.Dispose();
        if (_sharedPort is null) _state.ListenSocket?.Dispose(); // a shared port belongs to the host, and stays open
        _stopping.Dispose();
    }
}
