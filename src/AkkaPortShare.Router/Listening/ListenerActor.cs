using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Interop;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Listening;

/// <summary>
/// Owns the shared port. A few accept loops (max-pending-accepts) run outside the mailbox, Kestrel style, and
/// survive per-connection errors; each accepted socket becomes a <see cref="ConnectionActor"/> child. The actor
/// keeps the unrouted connections in arrival order and sheds the oldest when max-pending-connections is reached.
/// </summary>
internal sealed class ListenerActor : ReceiveActor
{
    private sealed record Accepted(Socket Socket) : INoSerializationVerificationNeeded;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RouterSettings _settings;
    private readonly IActorRef _registry;
    private readonly CancellationTokenSource _stopping = new();
    private readonly LinkedList<IActorRef> _pending = new();
    private readonly Dictionary<IActorRef, LinkedListNode<IActorRef>> _pendingIndex = new();
    private Socket? _listenSocket;

    public static Props Props(RouterSettings settings, IActorRef registry) =>
        Akka.Actor.Props.Create(() => new ListenerActor(settings, registry));

    public ListenerActor(RouterSettings settings, IActorRef registry)
    {
        _settings = settings;
        _registry = registry;
        Receive<Accepted>(a => OnAccepted(a.Socket));
        Receive<ConnectionRouted>(_ => RemovePending(Sender));
        Receive<Terminated>(t => RemovePending(t.ActorRef));
        Receive<RouterProtocol.GetListenerStatus>(_ => Sender.Tell(new RouterProtocol.ListenerStatus(
            (IPEndPoint)_listenSocket!.LocalEndPoint!, _pending.Count)));
    }

    // A connection actor that fails is a lost connection, never a reason to restart it on the same socket.
    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    protected override void PreStart()
    {
        var address = _settings.ListenAddress;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
        socket.Bind(new IPEndPoint(address, _settings.Port));
        TcpSegmentSize.Cap(socket, _settings.TcpMaxSegmentSize);
        socket.Listen(_settings.ListenBacklog);
        _listenSocket = socket;
        _log.Info("Listening on {0} (backlog {1}, {2} pending accepts, at most {3} unrouted connections)",
            socket.LocalEndPoint, _settings.ListenBacklog, _settings.MaxPendingAccepts, _settings.MaxPendingConnections);
        for (var i = 0; i < _settings.MaxPendingAccepts; i++)
            _ = AcceptLoop(socket, Self, _log, _stopping.Token);
    }

    private static async Task AcceptLoop(Socket listenSocket, IActorRef self, ILoggingAdapter log, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var socket = await listenSocket.AcceptAsync(stopping).ConfigureAwait(false);
                self.Tell(new Accepted(socket));
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
        }
    }

    private void OnAccepted(Socket socket)
    {
        if (_pending.Count >= _settings.MaxPendingConnections)
        {
            var oldest = _pending.First!.Value;
            RemovePending(oldest);
            oldest.Tell(Shed.Instance);
        }

        socket.NoDelay = true;
        var connection = Context.ActorOf(ConnectionActor.Props(socket, _registry, _settings));
        Context.Watch(connection);
        _pendingIndex[connection] = _pending.AddLast(connection);
    }

    private void RemovePending(IActorRef connection)
    {
        if (_pendingIndex.Remove(connection, out var node)) _pending.Remove(node);
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        _listenSocket?.Dispose();
        _stopping.Dispose();
    }
}
