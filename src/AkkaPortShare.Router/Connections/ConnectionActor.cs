using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Diagnostics;
using AkkaPortShare.Router.Handover;
using AkkaPortShare.Router.Registration;
using AkkaPortShare.Router.Relay;
using AkkaPortShare.Interop;
using AkkaPortShare.Interop.Relay;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Connections;

/// <summary>
/// One accepted client connection whose first bytes did not decide its route (see DirectHandover), from its first
/// byte until it belongs to a worker. It reads the framing preamble (bounded in size and time), finds who owns the
/// via (in the registry's published routes, else by asking the registry), then passes the socket to that
/// worker and stops: after hand-over the router keeps nothing of the connection. Where a socket cannot be
/// passed it relays bytes instead. Every failure ends in the protocol's fault or a clean close, never a crash.
/// </summary>
/// <remarks>
/// One behaviour per state: <see cref="ReadingPreamble"/> → <see cref="Routing"/> → handed over (stopped), or
/// <see cref="ConnectingToWorker"/> → <see cref="Relaying"/>. Whether the connection is still pending (the
/// listener's question when it sheds) is the <see cref="HeldConnections"/> ledger's stage, which this actor
/// moves on as it leaves <see cref="ReadingPreamble"/>: it tells the listener nothing.
/// </remarks>
internal sealed class ConnectionActor : ReceiveActor, IWithTimers
{
    // The read results may arrive after the actor stopped (shed, timed out): expected, so not worth a dead-letter line.
    /// <summary>The zero-byte read completed: bytes (or the end of the stream) wait in the socket.</summary>
    private sealed class ReadReady : IDeadLetterSuppression { public static readonly ReadReady Instance = new(); }
    private sealed record ReadFailed(Exception Cause) : IDeadLetterSuppression;
    private sealed record RelayConnected(Socket Worker) : INoSerializationVerificationNeeded;
    private sealed record RelayFailed(string Reason);
    private sealed record RelayFinished(long ToWorker, long ToClient, string? Error);
    private sealed class PreambleTimeout { public static readonly PreambleTimeout Instance = new(); }

    /// <summary>Who answers for the client's socket when this actor stops.</summary>
    private enum SocketOwner
    {
        /// <summary>This actor: the socket is closed and leaves the ledger when it stops.</summary>
        Held,

        /// <summary>A relay this actor runs: closed when it stops, and counted among relayed connections until then.</summary>
        Relayed,

        /// <summary>Passed to a worker's gateway or to the fault drains, which close it in their time.</summary>
        Passed,
    }

    /// <param name="Preamble">What was read of the preamble; null once the bytes went on (hand-over, relay).</param>
    private sealed record State(PreambleRead? Preamble, SocketOwner Socket);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Socket _socket;
    private readonly IActorRef _registry;
    private readonly IActorRef _drains;
    private readonly RouterSettings _settings;
    private readonly string _peer;
    private readonly HeldConnections _held = HeldConnections.Get(Context.System);
    private readonly RouterMetrics _metrics = RouterMetrics.Get(Context.System);
    private readonly RouteSnapshots _routes = RouteSnapshots.Get(Context.System);
    private readonly long _acceptedAt = Stopwatch.GetTimestamp(); // for the hand-over latency histogram only
    private readonly TimeSpan _waited;
    private State _state;
    private SplicedRelay? _splicedRelay; // owns both sockets while it runs (relay-engine = splice)

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="preamble">What the listener already read and decoded (possibly nothing): this actor goes on
    /// from there and never decodes those bytes again. It returns the buffer to the pool.</param>
    /// <param name="drains">Takes the socket after a fault (see <see cref="FaultDrainActor"/>).</param>
    /// <param name="waited">How long it already waited for its preamble since its accept (PreambleWaits): taken
    /// off receive-timeout.</param>
    public static Props Props(Socket socket, IActorRef registry, IActorRef drains, RouterSettings settings, PreambleRead preamble,
        TimeSpan waited = default) =>
        Akka.Actor.Props.Create(() => new ConnectionActor(socket, registry, drains, settings, preamble, waited));

    public ConnectionActor(Socket socket, IActorRef registry, IActorRef drains, RouterSettings settings, PreambleRead preamble,
        TimeSpan waited)
    {
        _waited = waited;
        _drains = drains;
        _socket = socket;
        _registry = registry;
        _settings = settings;
        _peer = socket.RemoteEndPoint?.ToString() ?? "unknown peer";
        _state = new State(preamble, SocketOwner.Held);
        ReadingPreamble();
    }

    protected override void PreStart()
    {
        var left = _settings.ReceiveTimeout - _waited;
        Timers.StartSingleTimer(PreambleTimeout.Instance, PreambleTimeout.Instance, left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
        // Bytes read before this actor existed (by the listener, or by a worker that handed the connection back)
        // are decoded already: decide on them, or read on.
        if (_state.Preamble!.Filled > 0) OnDecoded();
        else ReadMore();
    }

    private void ReadingPreamble()
    {
        Receive<ReadReady>(_ => TakeWhatArrived());
        Receive<ReadFailed>(f => Close($"read failed before the preamble was complete: {f.Cause.Message}"));
        ReceiveTimeoutAndShed();
    }

    private void Routing()
    {
        Receive<RouteNotFound>(r =>
        {
            _log.Info("No registration matches via {0} from {1}: EndpointNotFound", r.Via, _peer);
            Fault(FramingFaults.EndpointNotFound);
        });
        Receive<RouteFound>(r => OnRouteFound(r, lane: null));
        ReceiveTimeoutAndShed();
    }

    private void ConnectingToWorker()
    {
        Receive<RelayConnected>(OnRelayConnected);
        Receive<RelayFailed>(f =>
        {
            _log.Warning("Relay to worker failed for {0}: {1}", _peer, f.Reason);
            Fault(FramingFaults.ConnectionDispatchFailed);
        });
    }

    private void Relaying()
    {
        Receive<RelayFinished>(f =>
        {
            if (f.Error is not null) _log.Debug("Relay for {0} ended: {1}", _peer, f.Error);
            Context.Stop(Self);
        });
    }

    // Routing too: a registry that does not answer is bounded by receive-timeout. A Shed that crossed the
    // routing decision still closes the connection, as it did when the listener chose it.
    private void ReceiveTimeoutAndShed()
    {
        Receive<PreambleTimeout>(_ => Close($"no complete preamble within receive-timeout {_settings.ReceiveTimeout}"));
        Receive<Shed>(_ => Close("shed: max-pending-connections reached and this was the oldest connection still waiting for its client"));
    }

    private void OnBytesRead(int count)
    {
        var preamble = _state.Preamble!;
        if (count == 0)
        {
            // EOF before any byte is a client dropping an idle pooled connection: not worth a warning.
            if (preamble.Filled == 0) Close(null);
            else Close("the client closed the connection before its preamble was complete");
            return;
        }
        preamble.Decode(count);
        OnDecoded();
    }

    private void OnDecoded()
    {
        var preamble = _state.Preamble!;
        var decoder = preamble.Decoder;
        switch (decoder.Stage)
        {
            case PreambleStage.Failed when decoder.FaultFor is { } fault:
                _log.Info("Bad preamble from {0} ({1}): answering {2}", _peer, decoder.Error, fault);
                Fault(fault);
                break;
            case PreambleStage.Failed:
                _metrics.ClosedForBadPreamble();
                Close($"bad preamble ({decoder.Error})");
                break;
            case PreambleStage.AfterEncoding or PreambleStage.Complete
                when decoder.Mode is not (FramingMode.Duplex or FramingMode.Singleton):
                _log.Info("Mode {0} from {1} is not routed: UnsupportedMode", decoder.Mode, _peer);
                Fault(FramingFaults.UnsupportedMode);
                break;
            case PreambleStage.AfterEncoding or PreambleStage.Complete:
                // No longer pending: the listener reads this stage and never sheds it.
                _held.Move(_socket, HeldStage.WaitingForRegistry);
                // The registry's published table routes most vias to a gateway or a relay without asking (see
                // RouteSnapshot); the rest (unknown, restart-grace parking) are the registry's to answer.
                if (_routes.Current.TryMatch(decoder.Via!, LocalEndPoint(), out var target))
                {
                    OnRouteFound(new RouteFound(target!.BaseAddress, target.Worker, target.Gateway), target.Lane);
                    break;
                }
                Become(Routing);
                _registry.Tell(new Resolve(decoder.Via!, LocalEndPoint()));
                break;
            default:
                if (preamble.Free.IsEmpty) Close("preamble does not fit the preamble buffer");
                else ReadMore();
                break;
        }
    }

    /// <param name="lane">The gateway's lane (from the published routes): sent from here while the gateway holds nothing.</param>
    private void OnRouteFound(RouteFound route, HandoverLane? lane)
    {
        var preamble = _state.Preamble!;
        var via = preamble.Decoder.Via!;
        var alreadyRead = preamble.ToArray();
        if (route.Gateway is { } gateway)
        {
            _log.Debug("Passing {0} ({1}) to worker pid {2}", _peer, via, route.Worker.ProcessId);
            _state = _state with { Socket = SocketOwner.Passed };
            _held.Move(_socket, HeldStage.WaitingForHandover); // the gateway releases it once passed
            var handOver = new HandOver(_socket, alreadyRead, via);
            if (lane is null) gateway.Tell(handOver);
            else if (!lane.TrySendOrCount(handOver)) lane.SendThroughGateway(gateway, handOver);
            _metrics.Dispatched(route.BaseAddress, "fd", _acceptedAt);
            Context.Stop(Self);
            return;
        }

        if (!_held.TryStartRelay(_socket, _settings.MaxRelayedConnections))
        {
            _log.Warning("Cannot relay {0} ({1}): max-relayed-connections {2} reached: ConnectionDispatchFailed", _peer,
                via, _settings.MaxRelayedConnections);
            Fault(FramingFaults.ConnectionDispatchFailed);
            return;
        }
        _metrics.Dispatched(route.BaseAddress, "relay", _acceptedAt);
        _log.Debug("Relaying {0} ({1}) to {2}:{3}", _peer, via, route.Worker.DataHost, route.Worker.DataPort);
        Timers.Cancel(PreambleTimeout.Instance);
        preamble.Return(); // the bytes travel in alreadyRead now
        if (RelayEngines.Get(Context.System, _settings).Handoff(Context.System, _drains) is { } handoff
            && RelayHandoff.EndPoint(route.Worker) is { } workerEndPoint)
        {
            // The splice engine connects, sends the bytes read and relays; nothing here waits for the end.
            _state = new State(null, SocketOwner.Passed);
            handoff.Start(_socket, alreadyRead, workerEndPoint);
            Context.Stop(Self);
            return;
        }
        _state = new State(null, SocketOwner.Relayed);
        Become(ConnectingToWorker);
        ConnectToWorker(route.Worker, alreadyRead).PipeTo(Self);
    }

    private static async Task<object> ConnectToWorker(WorkerEndpoint worker, byte[] alreadyRead)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // An address literal (the usual registration) connects without the host-name path's resolver machinery.
            if (IPAddress.TryParse(worker.DataHost, out var address))
                await socket.ConnectAsync(new IPEndPoint(address, worker.DataPort)).ConfigureAwait(false);
            else
                await socket.ConnectAsync(worker.DataHost, worker.DataPort).ConfigureAwait(false);
            await socket.SendAsync(alreadyRead, SocketFlags.None).ConfigureAwait(false);
            return new RelayConnected(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            return new RelayFailed(e.Message);
        }
    }

    private void OnRelayConnected(RelayConnected connected)
    {
        Become(Relaying);
        if (RelayEngines.Get(Context.System, _settings).Splice is { } engine)
        {
            var self = Self; // the callback runs on an engine thread
            _splicedRelay = engine.Start(_socket, connected.Worker, o => self.Tell(new RelayFinished(o.ToWorker, o.ToClient, o.Error)));
            return;
        }
        SocketRelay.RunAsync(_socket, connected.Worker, _settings.RelayBufferSize)
            .PipeTo(Self, success: r => new RelayFinished(r.ToWorker, r.ToClient, r.Error?.Message));
    }

    private void Fault(string faultUri)
    {
        // A relay that could not start gives its slot back: the socket is a held one again, for its fault.
        if (_state.Socket == SocketOwner.Relayed) _held.RelayNotStarted(_socket);
        // No longer pending from here (the listener reads the stage); the drains take it on (see FaultDrainActor).
        _held.Move(_socket, HeldStage.Draining);
        _state = _state with { Socket = SocketOwner.Passed };
        _drains.Tell(new DrainAfterFault(_socket, faultUri, _peer));
        Context.Stop(Self);
    }

    private void Close(string? reason)
    {
        if (reason is not null) _log.Info("Closing connection from {0}: {1}", _peer, reason);
        Context.Stop(Self);
    }

    // A zero-byte read: it completes when bytes (or the end of the stream) are waiting, and takes none of them.
    // They stay in the socket until this actor takes and decodes them in one step, so a router too busy to get
    // to them still sees that the client has sent them (the listener's PendingConnections) and does not shed it.
    private void ReadMore()
    {
        SocketTasks.Receive(_socket, Memory<byte>.Empty)
            .PipeTo(Self, success: _ => ReadReady.Instance, failure: e => new ReadFailed(e));
    }

    private void TakeWhatArrived()
    {
        int read;
        try
        {
            // Bytes waiting, or readable without bytes (end of stream, reset): Receive returns at once either way.
            if (_socket.Available == 0 && !_socket.Poll(0, SelectMode.SelectRead))
            {
                ReadMore(); // woken without anything to read
                return;
            }
            read = _socket.Receive(_state.Preamble!.Free, SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Close($"read failed before the preamble was complete: {e.Message}");
            return;
        }
        OnBytesRead(read);
    }

    private IPEndPoint LocalEndPoint() => (IPEndPoint)_socket.LocalEndPoint!;

    protected override void PostStop()
    {
        switch (_state.Socket)
        {
            case SocketOwner.Held:
                _socket.Dispose();
                _held.Release(_socket);
                break;
            case SocketOwner.Relayed:
                // The engine closes its sockets on its own thread: a descriptor closed here could be reused while
                // the engine still splices on its number.
                if (_splicedRelay is not null) _splicedRelay.Abort();
                else _socket.Dispose();
                _held.EndRelay();
                break;
        }
        // The pending read (if any) reads zero bytes, so the buffer can always go back to the pool.
        _state.Preamble?.Return();
    }
}
