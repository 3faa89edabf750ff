using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Framing;
using AkkaPortShare.Registration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Diagnostics;
using AkkaPortShare.Router.Relay;
using AkkaPortShare.Transport;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Connections;

/// <summary>
/// One accepted client connection, from its first byte until it belongs to a worker. It reads the framing
/// preamble (bounded in size and time), asks the registry who owns the via, then passes the socket to that
/// worker and stops: after hand-over the router keeps nothing of the connection. Where a socket cannot be
/// passed it relays bytes instead. Every failure ends in the protocol's fault or a clean close, never a crash.
/// </summary>
internal sealed class ConnectionActor : ReceiveActor, IWithTimers
{
    // The read results may arrive after the actor stopped (shed, timed out): expected, so not worth a dead-letter line.
    private sealed record BytesRead(int Count) : IDeadLetterSuppression;
    /// <summary>The zero-byte read completed: bytes (or the end of the stream) wait in the socket.</summary>
    private sealed class ReadReady : IDeadLetterSuppression { public static readonly ReadReady Instance = new(); }
    private sealed record ReadFailed(Exception Cause) : IDeadLetterSuppression;
    private sealed record RelayConnected(Socket Worker) : INoSerializationVerificationNeeded;
    private sealed record RelayFailed(string Reason);
    private sealed record RelayFinished(long ToWorker, long ToClient, Exception? Error);
    private sealed class PreambleTimeout { public static readonly PreambleTimeout Instance = new(); }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Socket _socket;
    private readonly IActorRef _registry;
    private readonly IActorRef _drains;
    private readonly RouterSettings _settings;
    private readonly PreambleDecoder _decoder;
    private readonly string _peer;
    private readonly PendingSlot? _slot;
    private byte[]? _buffer;
    private int _filled;
    private int _decoded;
    private bool _socketGivenAway;
    private bool _relaying;
    private readonly HeldConnections _held = HeldConnections.Get(Context.System);
    private readonly RouterMetrics _metrics = RouterMetrics.Get(Context.System);
    private readonly long _acceptedAt = Stopwatch.GetTimestamp(); // for the hand-over latency histogram

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="slot">Set by the listener for a connection it counts as pending: marked as soon as the bytes
    /// that decide its routing have arrived, so the listener does not shed it while it waits for its turn here.</param>
    /// <param name="drains">Takes the socket after a fault (see <see cref="FaultDrainActor"/>).</param>
    public static Props Props(Socket socket, IActorRef registry, IActorRef drains, RouterSettings settings,
        byte[]? alreadyRead = null, PendingSlot? slot = null) =>
        Akka.Actor.Props.Create(() => new ConnectionActor(socket, registry, drains, settings, alreadyRead, slot));

    public ConnectionActor(Socket socket, IActorRef registry, IActorRef drains, RouterSettings settings, byte[]? alreadyRead,
        PendingSlot? slot)
    {
        _drains = drains;
        _socket = socket;
        _slot = slot;
        _registry = registry;
        _settings = settings;
        _decoder = new PreambleDecoder(settings.MaxViaSize, settings.MaxContentTypeSize);
        _peer = socket.RemoteEndPoint?.ToString() ?? "unknown peer";
        // Room for the largest valid preamble: the decoder refuses anything longer before the buffer fills.
        _buffer = ArrayPool<byte>.Shared.Rent(settings.MaxViaSize + settings.MaxContentTypeSize + 64);
        if (alreadyRead is { Length: > 0 })
        {
            // Bytes read before this actor existed: by the listener (what had arrived when it took the socket), or
            // by a worker that handed the connection back (its next preamble).
            if (alreadyRead.Length > _buffer.Length)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(alreadyRead.Length);
            }
            alreadyRead.CopyTo(_buffer, 0);
            Self.Tell(new BytesRead(alreadyRead.Length));
            _filled = 0;
        }
        else
        {
            ReadMore();
        }
        ReadingPreamble();
    }

    protected override void PreStart() =>
        Timers.StartSingleTimer(PreambleTimeout.Instance, PreambleTimeout.Instance, _settings.ReceiveTimeout);

    private void ReadingPreamble()
    {
        Receive<BytesRead>(r => OnBytesRead(r.Count));
        Receive<ReadReady>(_ => TakeWhatArrived());
        Receive<ReadFailed>(f => Close($"read failed before the preamble was complete: {f.Cause.Message}"));
        ReceiveCommon();
    }

    private void Routing()
    {
        Receive<RouteNotFound>(r =>
        {
            _log.Info("No registration matches via {0} from {1}: EndpointNotFound", r.Via, _peer);
            Fault(FramingFaults.EndpointNotFound);
        });
        Receive<RouteFound>(OnRouteFound);
        ReceiveCommon();
    }

    private void Relaying()
    {
        Receive<RelayConnected>(OnRelayConnected);
        Receive<RelayFailed>(f =>
        {
            _log.Warning("Relay to worker failed for {0}: {1}", _peer, f.Reason);
            Fault(FramingFaults.ConnectionDispatchFailed);
        });
        Receive<RelayFinished>(f =>
        {
            if (f.Error is not null) _log.Debug("Relay for {0} ended: {1}", _peer, f.Error.Message);
            Context.Stop(Self);
        });
    }

    private void ReceiveCommon()
    {
        Receive<PreambleTimeout>(_ => Close($"no complete preamble within receive-timeout {_settings.ReceiveTimeout}"));
        Receive<Shed>(_ => Close("shed: max-pending-connections reached and this was the oldest connection still waiting for its client"));
    }

    private void OnBytesRead(int count)
    {
        if (count == 0)
        {
            // EOF before any byte is a client dropping an idle pooled connection: not worth a warning.
            if (_filled == 0) Close(null);
            else Close("the client closed the connection before its preamble was complete");
            return;
        }

        _filled += count;
        _decoded += _decoder.Decode(_buffer.AsSpan(_decoded, _filled - _decoded));
        if (_decoder.Stage is PreambleStage.Failed or PreambleStage.AfterEncoding or PreambleStage.Complete) _slot?.MarkDecided();
        switch (_decoder.Stage)
        {
            case PreambleStage.Failed when _decoder.FaultFor is { } fault:
                _log.Info("Bad preamble from {0} ({1}): answering {2}", _peer, _decoder.Error, fault);
                Fault(fault);
                break;
            case PreambleStage.Failed:
                _metrics.ClosedForBadPreamble();
                Close($"bad preamble ({_decoder.Error})");
                break;
            case PreambleStage.AfterEncoding or PreambleStage.Complete
                when _decoder.Mode is not (FramingMode.Duplex or FramingMode.Singleton):
                _log.Info("Mode {0} from {1} is not routed: UnsupportedMode", _decoder.Mode, _peer);
                Fault(FramingFaults.UnsupportedMode);
                break;
            case PreambleStage.AfterEncoding or PreambleStage.Complete:
                Become(Routing);
                _held.Move(_socket, HeldStage.WaitingForRegistry);
                _registry.Tell(new Resolve(_decoder.Via!, LocalEndPoint()));
                break;
            default:
                if (_filled == _buffer!.Length) Close("preamble does not fit the preamble buffer");
                else ReadMore();
                break;
        }
    }

    private void OnRouteFound(RouteFound route)
    {
        Context.Parent.Tell(ConnectionRouted.Instance);
        var alreadyRead = _buffer.AsSpan(0, _filled).ToArray();
        if (route.Gateway is { } gateway)
        {
            _log.Debug("Passing {0} ({1}) to worker pid {2}", _peer, _decoder.Via, route.Worker.ProcessId);
            _socketGivenAway = true;
            _held.Move(_socket, HeldStage.WaitingForHandover); // the gateway releases it once passed
            gateway.Tell(new HandOver(_socket, alreadyRead, _decoder.Via!));
            _metrics.Dispatched(route.BaseAddress, "fd", _acceptedAt);
            Context.Stop(Self);
            return;
        }

        if (!_held.TryStartRelay(_socket, _settings.MaxRelayedConnections))
        {
            _log.Warning("Cannot relay {0} ({1}): max-relayed-connections {2} reached: ConnectionDispatchFailed", _peer,
                _decoder.Via, _settings.MaxRelayedConnections);
            Fault(FramingFaults.ConnectionDispatchFailed);
            return;
        }
        _relaying = true;
        _metrics.Dispatched(route.BaseAddress, "relay", _acceptedAt);
        _log.Debug("Relaying {0} ({1}) to {2}:{3}", _peer, _decoder.Via, route.Worker.DataHost, route.Worker.DataPort);
        Timers.Cancel(PreambleTimeout.Instance);
        Become(Relaying);
        ConnectToWorker(route.Worker, alreadyRead).PipeTo(Self);
    }

    private static async Task<object> ConnectToWorker(WorkerEndpoint worker, byte[] alreadyRead)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
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
        ReturnBuffer();
        SocketRelay.RunAsync(_socket, connected.Worker, _settings.RelayBufferSize)
            .PipeTo(Self, success: r => new RelayFinished(r.ToWorker, r.ToClient, r.Error));
    }

    private void Fault(string faultUri)
    {
        Context.Parent.Tell(ConnectionRouted.Instance);
        _socketGivenAway = true;
        // The socket drains (bounded, see FaultDrainActor) after this actor stops: it is no longer pending.
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
    // to them still sees that the client has sent them (PendingSlot.WaitsForClient) and does not shed it.
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
            read = _socket.Receive(_buffer.AsSpan(_filled), SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Close($"read failed before the preamble was complete: {e.Message}");
            return;
        }
        OnBytesRead(read);
    }

    private IPEndPoint LocalEndPoint() => (IPEndPoint)_socket.LocalEndPoint!;

    private void ReturnBuffer()
    {
        if (_buffer is null) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
    }

    protected override void PostStop()
    {
        if (!_socketGivenAway)
        {
            _socket.Dispose();
            _held.Release(_socket);
        }
        if (_relaying) _held.EndRelay();
        // The pending read (if any) reads zero bytes, so the buffer can always go back to the pool.
        ReturnBuffer();
    }
}
