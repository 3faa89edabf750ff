using System.Net;
using System.Net.Sockets;

namespace AkkaPortShare.TestSupport.Sockets;

public static class FreePort
{
    private static readonly HashSet<int> Taken = [];

    /// <summary>A loopback port free right now (the kernel's choice, so parallel test runs do not collide).</summary>
    public static int Next()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// A free loopback port BELOW the kernel's ephemeral range, never handed out twice by this process: a load
    /// generator's own connections (and their TIME_WAIT leftovers) take ephemeral ports, and must never hold a
    /// port that a restarted router or worker binds again.
    /// </summary>
    public static int BelowEphemeralRange()
    {
        var low = 32768;
        try
        {
            low = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0]);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            // Not Linux, or not readable: assume the usual range.
        }
        var from = Math.Max(1024, Math.Min(low, 32768) - 12000);
        var to = Math.Max(from + 100, Math.Min(low, 32768) - 1);
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(from, to);
            lock (Taken)
                if (!Taken.Add(port)) continue;
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Someone else holds it: try another.
            }
        }
        throw new InvalidOperationException($"no free loopback port in {from}-{to}");
    }
}
