using System.Net;
using System.Net.Sockets;

namespace AkkaPortShare.IntegrationTests.Harness;

public static class FreePort
{
    /// <summary>A loopback port free right now (the kernel's choice, so parallel test runs do not collide).</summary>
    public static int Next()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
