using System.Buffers;
using System.Net;
using System.Net.Sockets;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Interop;

namespace AkkaPortShare.Worker.Listening;

/// <summary>Where a worker's connections come from: passed sockets from the router, and its own listener.</summary>
internal static class ConnectionSources
{
    /// <summary>
    /// An arrived connection; Channel is null for direct (or relayed) connections. Resumed: its client already has the
    /// PreambleAck of its session, which another worker of the address passed here (see HandoverFrame.ResumedConnection).
    /// </summary>
    public sealed record Arrived(Socket Socket, byte[] AlreadyRead, RouterChannel? Channel, bool Resumed = false);

    /// <summary>Accepts on the worker's own net.tcp listener until cancelled.</summary>
    public static async Task AcceptDataConnections(Socket listener, Action<Arrived> onArrived, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var socket = await listener.AcceptAsync(stopping).ConfigureAwait(false);
                socket.NoDelay = true;
                onArrived(new Arrived(socket, [], null));
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // One connection failed while being accepted; the listener is fine.
            }
        }
    }

    /// <summary>The router's channel token arrived on <paramref name="Channel"/> (see <see cref="HandoverFrame.ChannelToken"/>).</summary>
    public sealed record TokenArrived(RouterChannel Channel, string Token);

    /// <summary>
    /// A connection to the hand-over socket, not read yet. Peer: who made it, as the kernel recorded it at connect
    /// (SO_PEERCRED), which the peer cannot forge; see <see cref="RouterChannelGate"/>.
    /// </summary>
    public sealed record ChannelAccepted(RouterChannel Channel, PeerCredentials Peer);

    /// <summary>Accepts connections on the hand-over socket and reads their peer; nothing is read from them here.</summary>
    public static async Task AcceptRouterChannels(Socket handoverListener, Action<ChannelAccepted> onAccepted, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var socket = await handoverListener.AcceptAsync(stopping).ConfigureAwait(false);
                PeerCredentials peer;
                try
                {
                    peer = UnixHandover.GetPeerCredentials(socket);
                }
                catch (Exception e) when (e is SocketException or IOException)
                {
                    socket.Dispose(); // a peer we cannot name is never the router
                    continue;
                }
                onAccepted(new ChannelAccepted(new RouterChannel(socket), peer));
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
            }
        }
    }

    /// <summary>Reads a verified router channel on its own thread until it closes.</summary>
    public static void ReceiveFromRouter(RouterChannel channel, Action<Arrived> onArrived, Action<TokenArrived> onToken,
        Action<RouterChannel, string> onClosed, CancellationToken stopping) =>
        new Thread(() => ReceivePassedSockets(channel, onArrived, onToken, onClosed, stopping))
        {
            IsBackground = true, Name = "handover-recv",
        }.Start();

    // A dedicated thread: recvmsg with SCM_RIGHTS has no managed async API, and this must not hold an actor thread.
    private static void ReceivePassedSockets(RouterChannel channel, Action<Arrived> onArrived,
        Action<TokenArrived> onToken, Action<RouterChannel, string> onClosed, CancellationToken stopping)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(UnixHandover.MaxMessageSize);
        var reason = "the router closed the hand-over channel";
        try
        {
            while (true)
            {
                var length = UnixHandover.Receive(channel.Socket, buffer, out var socket, stopping);
                if (length == 0)
                {
                    socket?.Dispose();
                    return;
                }
                if (socket is not null && HandoverFrame.TryRead(buffer.AsSpan(0, length), out var alreadyRead, out var resumed))
                    onArrived(new Arrived(socket, alreadyRead.ToArray(), channel, resumed));
                else if (socket is null && HandoverFrame.TryReadToken(buffer.AsSpan(0, length), out var token))
                    onToken(new TokenArrived(channel, token!));
                else
                    socket?.Dispose();
            }
        }
        catch (OperationCanceledException)
        {
            reason = "the worker is stopping";
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            reason = $"the hand-over channel failed: {e.Message}";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            channel.Dispose();
            onClosed(channel, reason);
        }
    }

    public static Socket ListenTcp(string hostname, int port, int maxSegmentSize, int backlog)
    {
        var address = hostname is "localhost" ? IPAddress.Loopback : IPAddress.Parse(hostname);
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
        socket.Bind(new IPEndPoint(address, port));
        TcpSegmentSize.Cap(socket, maxSegmentSize);
        socket.Listen(backlog);
        return socket;
    }
}
