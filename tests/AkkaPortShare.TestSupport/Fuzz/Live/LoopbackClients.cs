using System.Net;
using System.Net.Sockets;

namespace AkkaPortShare.TestSupport.Fuzz.Live;

/// <summary>
/// Client sockets for runs of many short connections on loopback. Each closes with SO_LINGER 0 (a reset, so no
/// TIME_WAIT is left on the client side), and connections can spread over several 127.0.0.x source addresses
/// (with IP_BIND_ADDRESS_NO_PORT, so the port is still chosen per destination) in case TIME_WAIT does pile up.
/// </summary>
public sealed class LoopbackClients(IPEndPoint router, int sourceAddresses = 1, byte firstSource = 1)
{
    private const int IpBindAddressNoPort = 24; // IP_BIND_ADDRESS_NO_PORT, Linux 4.2+
    private long _next;

    public IPEndPoint Router { get; } = router;

    public async Task<Socket> ConnectAsync(CancellationToken cancellation)
    {
        var socket = NewSocket();
        try
        {
            await socket.ConnectAsync(Router, cancellation).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A blocking connect (for clients on their own thread).</summary>
    public Socket Connect(TimeSpan timeout)
    {
        var socket = NewSocket();
        try
        {
            var connecting = socket.BeginConnect(Router, null, null);
            if (!connecting.AsyncWaitHandle.WaitOne(timeout)) throw new TimeoutException($"no connection within {timeout}");
            socket.EndConnect(connecting);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private Socket NewSocket()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            LingerState = new LingerOption(true, 0),
        };
        try
        {
            if (sourceAddresses > 1 || firstSource != 1)
            {
                var n = (int)(Interlocked.Increment(ref _next) % sourceAddresses);
                if (OperatingSystem.IsLinux()) socket.SetRawSocketOption(0, IpBindAddressNoPort, BitConverter.GetBytes(1));
                socket.Bind(new IPEndPoint(new IPAddress(new byte[] { 127, 0, 0, (byte)(firstSource + n) }), 0));
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
