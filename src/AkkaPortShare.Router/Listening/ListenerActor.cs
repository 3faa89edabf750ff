using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Framing;
using AkkaPortShare.Interop;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Diagnostics;
using AkkaPortShare.Router.Hosting;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Listening;

/// <summary>
/// Owns the shared port. A few accept loops (max-pending-accepts) run outside the mailbox, Kestrel style, and
/// survive per-connection errors; each accepted socket becomes a <see cref="ConnectionActor"/> child. The actor
/// keeps the unrouted connections in arrival order and sheds the oldest when max-pending-connections is reached.
/// </summary>
/// <remarks>
/// Under attack three things keep this bounded and fair. The accept loops wait for this actor to take each socket
/// (at most max-pending-accepts are accepted and not yet taken), so a flood of connections waits in the kernel's
/// backlog rather than as open sockets in a mailbox. A connection whose preamble has arrived, whether or not the
/// router has got round to it, is never shed: only connections waiting for their client are (see
/// <see cref="PendingSlot"/>). And the one shed comes from the source address holding the most unrouted
/// connections, so one address trickling thousands of connections pushes out its own, not other clients'.
/// </remarks>
internal sealed class ListenerActor : ReceiveActor
{
    private sealed record Accepted(Socket Socket) : INoSerializationVerificationNeeded;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RouterSettings _settings;
    private readonly IActorRef _registry;
    private readonly IActorRef _drains;
    private readonly CancellationTokenSource _stopping = new();
    private readonly LinkedList<(IActorRef Connection, PendingSlot Slot)> _pending = new();
    private readonly Dictionary<IActorRef, LinkedListNode<(IActorRef, PendingSlot)>> _pendingIndex = new();
    private readonly Dictionary<IPAddress, int> _pendingBySource = new();
    private readonly SemaphoreSlim _acceptGate;
    private readonly HeldConnections _held = HeldConnections.Get(Context.System);
    private readonly RouterMetrics _metrics = RouterMetrics.Get(Context.System);
    private readonly PreambleDecoder _decoder;
    private readonly SharedPort? _sharedPort;
    private Socket? _listenSocket;

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
        _acceptGate = new SemaphoreSlim(settings.MaxPendingAccepts);
        _decoder = new PreambleDecoder(settings.MaxViaSize, settings.MaxContentTypeSize);
        Receive<Accepted>(a => OnAccepted(a.Socket));
        Receive<StopAccepting>(_ =>
        {
            if (!_stopping.IsCancellationRequested)
                _log.Info("Stopped accepting on {0}; routing the {1} connection(s) already accepted", _listenSocket?.LocalEndPoint, _held.Count);
            _stopping.Cancel(); // the accept loops end; a socket accepted meanwhile still arrives and is routed
            Sender.Tell(Akka.Done.Instance);
        });
        Receive<ConnectionRouted>(_ => RemovePending(Sender));
        Receive<Terminated>(t => RemovePending(t.ActorRef));
        Receive<RouterProtocol.GetListenerStatus>(_ => Sender.Tell(new RouterProtocol.ListenerStatus(
            (IPEndPoint)_listenSocket!.LocalEndPoint!, _pending.Count)
        {
            HeldConnections = _held.Count,
            RelayedConnections = _held.Relayed,
            Accepting = !_stopping.IsCancellationRequested,
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
        _listenSocket = socket;
        _log.Info("Listening on {0}{1} (backlog {2}, {3} pending accepts, at most {4} unrouted and {5} held connections)",
            socket.LocalEndPoint, _sharedPort?.Origin is { } origin ? $" (socket {origin})" : "", _settings.ListenBacklog, _settings.MaxPendingAccepts, _settings.MaxPendingConnections,
            _settings.MaxHeldConnections);
        var room = new HeldRoom(_held, _settings.MaxHeldConnections, _log);
        for (var i = 0; i < _settings.MaxPendingAccepts; i++)
            _ = AcceptLoop(socket, _acceptGate, room, Self, _log, _stopping.Token);
    }

    private static async Task AcceptLoop(Socket listenSocket, SemaphoreSlim gate, HeldRoom room, IActorRef self,
        ILoggingAdapter log, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Released when the actor takes the socket: accepted-but-not-taken sockets stay few under any load.
                await gate.WaitAsync(stopping).ConfigureAwait(false);
                // At max-held-connections nothing is accepted: new clients wait in the kernel backlog.
                await room.WaitAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                var socket = await listenSocket.AcceptAsync(stopping).ConfigureAwait(false);
                self.Tell(new Accepted(socket));
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                // Out of descriptors or memory: back off instead of spinning; the kernel backlog holds clients meanwhile.
                log.Error("Accept failed ({0}); retrying in 100 ms", e.SocketErrorCode);
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                // A connection reset while still in the backlog, and the like: that connection is gone, not the port.
                log.Debug("Accept failed for one connection: {0}", e.SocketErrorCode);
            }
            gate.Release();
        }
    }

    private void OnAccepted(Socket socket)
    {
        _acceptGate.Release();
        _held.Hold(socket, HeldStage.ReadingPreamble);
        _metrics.Accepted();
        socket.NoDelay = true;
        var alreadyRead = ReadWhatArrived(socket, out var decided);
        if (!decided && _pending.Count >= _settings.MaxPendingConnections) MakeRoom();

        var slot = decided ? null : new PendingSlot(socket);
        var connection = Context.ActorOf(ConnectionActor.Props(socket, _registry, _drains, _settings, alreadyRead, slot));
        Context.Watch(connection);
        if (slot is null) return;
        _pendingIndex[connection] = _pending.AddLast((connection, slot));
        _pendingBySource[slot.Source] = _pendingBySource.GetValueOrDefault(slot.Source) + 1;
    }

    // Connections whose preamble has all arrived no longer wait for anything but their turn: they stop counting.
    // If that frees no room, one connection is shed: from the source address with the most unrouted connections,
    // the oldest of them that waits for its client (one whose bytes merely wait for a busy router to read them is
    // passed over, unless every one of them does).
    private void MakeRoom()
    {
        for (var node = _pending.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value.Slot.Decided) RemovePending(node.Value.Connection);
            node = next;
        }
        if (_pending.Count < _settings.MaxPendingConnections) return;
        var busiest = _pendingBySource.MaxBy(s => s.Value).Key;
        LinkedListNode<(IActorRef Connection, PendingSlot Slot)>? victim = null;
        for (var node = _pending.First; node is not null; node = node.Next)
        {
            if (!node.Value.Slot.Source.Equals(busiest)) continue;
            victim ??= node;
            if (!node.Value.Slot.WaitsForClient()) continue;
            victim = node;
            break;
        }
        victim ??= _pending.First!;
        RemovePending(victim.Value.Connection);
        victim.Value.Connection.Tell(Shed.Instance);
        _metrics.Shed();
    }

    // What the client sent before its socket was taken, read without waiting; decided when those bytes already
    // settle the routing decision (a complete preamble up to the encoding, or a broken one).
    private byte[]? ReadWhatArrived(Socket socket, out bool decided)
    {
        decided = false;
        try
        {
            var available = socket.Available;
            if (available <= 0) return null;
            var buffer = new byte[Math.Min(available, _settings.MaxViaSize + _settings.MaxContentTypeSize + 64)];
            var read = socket.Receive(buffer, SocketFlags.None); // data is waiting: this does not block
            if (read <= 0) return null;
            _decoder.Reset();
            _decoder.Decode(buffer.AsSpan(0, read));
            decided = _decoder.Stage is PreambleStage.Failed or PreambleStage.AfterEncoding or PreambleStage.Complete;
            return read == buffer.Length ? buffer : buffer[..read];
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null; // the connection actor's own read meets the same error and closes it
        }
    }

    private void RemovePending(IActorRef connection)
    {
        if (!_pendingIndex.Remove(connection, out var node)) return;
        _pending.Remove(node);
        var source = node.Value.Item2.Source;
        if (_pendingBySource[source] == 1) _pendingBySource.Remove(source);
        else _pendingBySource[source]--;
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        if (_sharedPort is null) _listenSocket?.Dispose(); // a shared port belongs to the host, and stays open
        _stopping.Dispose();
    }
}
