using System.Net;
using System.Net.Sockets;
using AkkaPortShare.Interop;
using AkkaPortShare.Router.Configuration;

namespace AkkaPortShare.Router.Hosting;

/// <summary>The shared port's listening socket, opened before anything else starts so that a port that cannot be
/// had ends the process at once with one clear line (see <see cref="CannotListenException"/>).</summary>
public sealed class SharedPort : IDisposable
{
    private SharedPort(Socket socket, string? origin)
    {
        Socket = socket;
        Origin = origin;
    }

    public Socket Socket { get; }

    /// <summary>Passed in by the service manager (socket activation): it outlives this process, and clients may
    /// have been waiting in its backlog while the router restarted.</summary>
    public bool Inherited => Origin is not null;

    /// <summary>Who passed the socket in ("passed by the service manager"); null when this process opened it.</summary>
    public string? Origin { get; }

    /// <summary>The socket systemd passed (LISTEN_FDS), or a new one bound to listen-address and port.</summary>
    public static SharedPort Open(RouterSettings settings)
    {
        var inherited = InheritedSockets.TakeListenSockets();
        if (inherited.Count > 0) return Adopt(inherited, settings);

        var address = settings.ListenAddress;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            socket.Bind(new IPEndPoint(address, settings.Port));
            socket.Listen(settings.ListenBacklog);
            return new SharedPort(socket, origin: null);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw CannotListenException.For(new IPEndPoint(address, settings.Port), e);
        }
    }

    private static SharedPort Adopt(IReadOnlyList<Socket> sockets, RouterSettings settings)
    {
        foreach (var extra in sockets.Skip(1)) extra.Dispose(); // one shared port per router
        return Adopt(sockets[0], settings, "the service manager", "(the .socket unit's ListenStream= and hocon.conf)",
            "passed by the service manager");
    }

    /// <summary>The listening socket the previous router handed over (akkaportshare --takeover): like one from
    /// systemd, it outlived that router, and clients may be waiting in its backlog.</summary>
    public static SharedPort TakenOver(Socket socket, RouterSettings settings) =>
        Adopt(socket, settings, "the previous router", "(both routers' hocon.conf)", "taken over from the previous router");

    private static SharedPort Adopt(Socket socket, RouterSettings settings, string from, string agree, string origin)
    {
        var local = socket.LocalEndPoint as IPEndPoint;
        if (local is null || socket.SocketType != SocketType.Stream)
        {
            socket.Dispose();
            throw new CannotListenException(
                $"{char.ToUpperInvariant(from[0])}{from[1..]} passed a socket that is not a listening TCP socket.", CannotListenException.Unavailable);
        }
        if (settings.Port != 0 && local.Port != settings.Port)
        {
            socket.Dispose();
            throw new CannotListenException(
                $"{char.ToUpperInvariant(from[0])}{from[1..]} passed a socket listening on {local}, but akka-port-share.router.port is {settings.Port}: " +
                $"make them agree {agree}.", CannotListenException.Configuration);
        }
        socket.Listen(settings.ListenBacklog); // already listening: only raises the backlog to ours
        return new SharedPort(socket, origin);
    }

    public void Dispose() => Socket.Dispose();
}

/// <summary>The shared port (or the remoting port) cannot be had; <see cref="ExitCode"/> follows sysexits.h.</summary>
public sealed class CannotListenException(string message, int exitCode, Exception? inner = null) : Exception(message, inner)
{
    public const int Unavailable = 69;   // EX_UNAVAILABLE: in use, or not an address of this host
    public const int NoPermission = 77;  // EX_NOPERM
    public const int Configuration = 78; // EX_CONFIG

    public int ExitCode { get; } = exitCode;

    public static CannotListenException For(IPEndPoint endPoint, SocketException e, string settings =
        "akka-port-share.router.listen-address and port") => e.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => new(
            $"Cannot listen on {endPoint} ({settings}): the address is already in use (another router, or another " +
            "service, holds the port).", Unavailable, e),
        SocketError.AccessDenied => new(
            $"Cannot listen on {endPoint} ({settings}): permission denied. Ports below 1024 need root or the " +
            "CAP_NET_BIND_SERVICE capability (config/systemd/akkaportshare.service grants it).", NoPermission, e),
        SocketError.AddressNotAvailable => new(
            $"Cannot listen on {endPoint} ({settings}): that address is not one of this host's.", Unavailable, e),
        _ => new($"Cannot listen on {endPoint} ({settings}): {e.Message} ({e.SocketErrorCode}).", Unavailable, e),
    };
}
