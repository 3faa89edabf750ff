using System.Net;
using System.Net.Sockets;

namespace AkkaPortShare.Interop.Tests;

[Collection(DescriptorCountingCollection.Name)]
public sealed class UnixHandoverLeakTests
{
    private const int HandOvers = 2_000;
    private const int Slack = 16;

    [LinuxFact]
    public async Task Many_hand_overs_do_not_leak_descriptors()
    {
        using var channel = new ChannelPair();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        var buffer = new byte[64];

        // Warm up so lazily created runtime descriptors (epoll engine, etc.) are not counted.
        await HandOverOnce(channel, listener, buffer, useAsync: true);
        await HandOverOnce(channel, listener, buffer, useAsync: false);
        int before = Native.OpenDescriptorCount();

        for (int i = 0; i < HandOvers; i++)
        {
            await HandOverOnce(channel, listener, buffer, useAsync: i % 2 == 0);
            if (i % 10 == 0)
            {
                // Messages without a descriptor interleaved with those that carry one.
                UnixHandover.Send(channel.Router, new byte[] { 1 }, cancellationToken: Bounds.Token());
                Assert.Equal(1, UnixHandover.Receive(channel.Worker, buffer, out Socket? none, Bounds.Token()));
                Assert.Null(none);
            }
        }

        int after = Native.OpenDescriptorCount();
        Assert.InRange(after, before - Slack, before + Slack);
    }

    private static async Task HandOverOnce(ChannelPair channel, Socket listener, byte[] buffer, bool useAsync)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        Socket accepted = listener.Accept();
        if (useAsync)
        {
            client.Send(new byte[] { 42 });
            await accepted.ReceiveAsync(buffer.AsMemory(0, 1)).AsTask().WaitAsync(Bounds.Wait);
        }

        UnixHandover.Send(channel.Router, new byte[] { 42 }, accepted, Bounds.Token());
        UnixHandover.ReleaseAfterHandover(accepted);

        Assert.Equal(1, UnixHandover.Receive(channel.Worker, buffer, out Socket? received, Bounds.Token()));
        using Socket worker = Assert.IsType<Socket>(received);
        worker.Send(new byte[] { 7 });
        client.ReceiveTimeout = (int)Bounds.Wait.TotalMilliseconds;
        Assert.Equal(1, client.Receive(buffer, 0, 1, SocketFlags.None));
    }
}
