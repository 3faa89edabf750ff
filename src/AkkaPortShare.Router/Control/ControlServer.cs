using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Interop;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Diagnostics;
using AkkaPortShare.Router.Hosting;

namespace AkkaPortShare.Router.Control;

/// <summary>
/// The router's control socket (see control-socket in reference.conf): answers <c>status</c> and hands its listening
/// socket to the next router (<c>take-listener</c>). Runs on the thread pool, never in an actor: a client that
/// connects and says nothing holds a slot for control-command-timeout, and at most control-max-clients
/// are served at once (one more is closed at once), so nobody can make the router wait or pile up work.
/// </summary>
/// <remarks>
/// Who may use it: the socket file is 0600 in a 0700 directory of the router's user, and each peer's uid is read
/// from the kernel (SO_PEERCRED) and must be the router's or root's. What it tells (every registration) and what
/// it can do (stop the router) are for the operator only.
/// </remarks>
internal sealed class ControlServer : IDisposable
{
    private const int ReplyChunk = 60 * 1024; // under UnixHandover.MaxMessageSize, the seqpacket record limit we use

    private readonly ActorSystem _system;
    private readonly ILoggingAdapter _log;
    private readonly IActorRef _listener;
    private readonly IActorRef _registry;
    private readonly SharedPort? _sharedPort;
    private readonly Func<CancellationToken, Task<IReadOnlyDictionary<string, string>>>? _health;
    private readonly RouterSettings _settings;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stopping = new();
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;
    private Socket? _socket;
    private int _handedOver;

    public ControlServer(ActorSystem system, RouterSettings settings, IActorRef listener, IActorRef registry,
        SharedPort? sharedPort, Func<CancellationToken, Task<IReadOnlyDictionary<string, string>>>? health)
    {
        _system = system;
        _settings = settings;
        _slots = new SemaphoreSlim(settings.ControlMaxClients);
        _log = Logging.GetLogger(system, typeof(ControlServer));
        _listener = listener;
        _registry = registry;
        _sharedPort = sharedPort;
        _health = health;
    }

    public string? Path { get; private set; }

    /// <summary>Opens the socket at <paramref name="path"/> (its directory made private first) and starts serving.</summary>
    /// <exception cref="UnsafeDirectoryException">The directory cannot be made private (someone else's, a link...).</exception>
    /// <exception cref="IOException">Another live process listens on that path.</exception>
    public void Start(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        PrivateDirectory.Ensure(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _socket = UnixHandover.Listen(path, backlog: _settings.ControlBacklog, mode: UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Path = path;
        _ = AcceptLoop(_socket, _stopping.Token);
        _log.Info("Control socket {0} (akkaportshare status; usable by {1})", path,
            UnixHandover.CurrentUserId == 0 ? "root only" : $"user {UnixUsers.Describe(UnixHandover.CurrentUserId)} and root");
    }

    private async Task AcceptLoop(Socket socket, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await socket.AcceptAsync(stopping);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _log.Warning("Control socket accept failed: {0}", e.SocketErrorCode);
                await Task.Delay(100, CancellationToken.None);
                continue;
            }
            if (!_slots.Wait(0))
            {
                client.Dispose(); // control-max-clients busy: a client that waits here could hold the rest up
                continue;
            }
            _ = ServeAndRelease(client);
        }
    }

    private async Task ServeAndRelease(Socket client)
    {
        try
        {
            using (client) await Serve(client);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            _log.Debug("Control socket client left: {0}", e.Message);
        }
        catch (Exception e)
        {
            _log.Error(e, "Control socket command failed");
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task Serve(Socket client)
    {
        var peer = UnixHandover.GetPeerCredentials(client);
        if (peer.UserId != UnixHandover.CurrentUserId && peer.UserId != 0)
        {
            _log.Warning("Control socket: refused pid {0} of user {1} (only the router's user and root)", peer.ProcessId,
                UnixUsers.Describe(peer.UserId));
            return;
        }
        var buffer = new byte[ControlProtocol.MaxCommandBytes];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(_settings.ControlCommandTimeout);
        var read = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        var command = Encoding.ASCII.GetString(buffer, 0, read).Trim();
        switch (command)
        {
            case ControlProtocol.Status:
                await Reply(client, await BuildStatus());
                break;
            case ControlProtocol.TakeListener:
                await HandListenerOver(client, peer);
                break;
            default:
                await Reply(client, new ControlError($"Unknown command \"{Truncate(command)}\" (known: status, take-listener)"));
                break;
        }
    }

    private async Task<RouterStatusReport> BuildStatus()
    {
        var listener = await _listener.Ask<RouterProtocol.ListenerStatus>(RouterProtocol.GetListenerStatus.Instance, _settings.ControlReplyTimeout);
        var registrations = await _registry.Ask<RouterProtocol.Registrations>(RouterProtocol.GetRegistrations.Instance, _settings.ControlReplyTimeout);
        IReadOnlyDictionary<string, string> health = new Dictionary<string, string>();
        if (_health is not null)
        {
            using var cts = new CancellationTokenSource(_settings.ControlReplyTimeout);
            health = await _health(cts.Token);
        }
        return new RouterStatusReport(Environment.ProcessId, UnixHandover.IsSupported ? UnixHandover.CurrentUserId : null,
            RouterVersion.Current, _startedAt, listener.LocalEndPoint.ToString(), listener.Accepting, listener.PendingConnections,
            registrations.Addresses, RouterMetrics.Get(_system).Snapshot(), health);
    }

    // HAProxy's seamless reload, for hosts without socket activation: the next router takes our listening socket
    // (the kernel gives it its own descriptor of the same socket, backlog included), and we stop accepting, route
    // what we accepted and exit, freeing the remoting port for it. No connection is refused in between.
    private async Task HandListenerOver(Socket client, PeerCredentials peer)
    {
        if (_sharedPort is null)
        {
            await Reply(client, new ControlError("This router opened its listening socket itself (not through SharedPort): it cannot hand it over."));
            return;
        }
        if (Interlocked.Exchange(ref _handedOver, 1) == 1)
        {
            await Reply(client, new ControlError("The listening socket has already been handed to another process."));
            return;
        }
        var answer = new ListenerHandedOver(Environment.ProcessId, _sharedPort.Socket.LocalEndPoint!.ToString()!);
        UnixHandover.Send(client, JsonSerializer.SerializeToUtf8Bytes(answer, ControlProtocol.Json), _sharedPort.Socket);
        _log.Info("Handed the listening socket {0} to pid {1} (akkaportshare --takeover): stopping accepting, draining and exiting",
            answer.ListenEndPoint, peer.ProcessId);
        _ = CoordinatedShutdown.Get(_system).Run(ListenerTakenOver.Instance);
    }

    private async Task Reply<T>(Socket client, T value)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, ControlProtocol.Json);
        using var timeout = new CancellationTokenSource(_settings.ControlReplyTimeout);
        for (var offset = 0; offset < bytes.Length; offset += ReplyChunk)
            await client.SendAsync(bytes.AsMemory(offset, Math.Min(ReplyChunk, bytes.Length - offset)), SocketFlags.None, timeout.Token);
    }

    private static string Truncate(string text) => text.Length <= 32 ? text : text[..32] + "...";

    public void Dispose()
    {
        _stopping.Cancel();
        _socket?.Dispose(); // .NET deletes the socket file it bound
    }

    /// <summary>Why CoordinatedShutdown ran: the next router took the listening socket.</summary>
    public sealed class ListenerTakenOver : CoordinatedShutdown.Reason
    {
        public static readonly ListenerTakenOver Instance = new();
        private ListenerTakenOver() { }

        public override int ExitCode => 0; // a planned hand-over, not a failure
    }
}
