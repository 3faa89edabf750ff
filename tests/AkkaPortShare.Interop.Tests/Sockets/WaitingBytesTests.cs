using System.Net.Sockets;
using AkkaPortShare.Interop.Sockets;

namespace AkkaPortShare.Interop.Tests.Sockets;

/// <summary>The accept thread's read of what a client sent with its connection: it must never wait for more.</summary>
public sealed class WaitingBytesTests
{
    [LinuxFact]
    public async Task Take_on_a_blocking_socket_with_nothing_waiting_returns_zero_and_leaves_it_blocking()
    {
        using var pair = new TcpPair();
        Assert.True(pair.Accepted.Blocking);

        // A blocking recv would wait here for bytes that never come: bounded, so that fails instead of hanging.
        var taking = Task.Run(() => WaitingBytes.Take(pair.Accepted, new byte[16]));
        Assert.Equal(0, await taking.WaitAsync(Bounds.Wait));

        Assert.False(Native.IsNonBlocking(pair.Accepted));
    }

    [LinuxFact]
    public void Take_returns_what_waits_up_to_the_buffer_and_leaves_the_rest()
    {
        using var pair = new TcpPair();
        pair.Client.Send("net.tcp-preamble"u8);
        var buffer = new byte[7];
        SpinWait.SpinUntil(() => pair.Accepted.Available == 16, Bounds.Wait);

        Assert.Equal(7, WaitingBytes.Take(pair.Accepted, buffer));
        Assert.Equal("net.tcp"u8.ToArray(), buffer);
        Assert.Equal(9, pair.Accepted.Available);
    }

    [LinuxFact]
    public void Take_reports_the_end_of_the_stream_and_a_disposed_socket_as_minus_one()
    {
        using var pair = new TcpPair();
        pair.Client.Shutdown(SocketShutdown.Send);
        Assert.True(pair.Accepted.Poll(Bounds.Wait, SelectMode.SelectRead));

        Assert.Equal(-1, WaitingBytes.Take(pair.Accepted, new byte[16]));
        pair.Accepted.Dispose();
        Assert.Equal(-1, WaitingBytes.Take(pair.Accepted, new byte[16]));
    }
}
