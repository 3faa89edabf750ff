using System.Net;
using System.Net.Sockets;

namespace AkkaPortShare.Interop.Tests;

/// <summary>The listener option the kernel keeps (it stores SYN-ACK retransmissions and reports them back as seconds).</summary>
public sealed class TcpDeferAcceptTests
{
    [LinuxFact]
    public void Set_turns_the_deferral_on_in_whole_seconds_and_zero_turns_it_off()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(8);

        TcpDeferAccept.Set(listener, TimeSpan.FromMilliseconds(300)); // rounded up: one second
        Assert.True(Read(listener) >= 1);

        TcpDeferAccept.Set(listener, TimeSpan.Zero);
        Assert.Equal(0, Read(listener));
    }

    private static int Read(Socket listener)
    {
        var value = new byte[sizeof(int)];
        listener.GetRawSocketOption(6, 9, value); // IPPROTO_TCP, TCP_DEFER_ACCEPT
        return BitConverter.ToInt32(value);
    }
}
