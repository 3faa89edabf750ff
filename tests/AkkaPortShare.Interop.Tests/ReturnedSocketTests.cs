using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace AkkaPortShare.Interop.Tests;

/// <summary>
/// A connection that was handed away and later comes back to the same process (router → worker →
/// router for re-routing → ...) must still work with async I/O. .NET never removes a closed
/// socket's descriptor from its epoll set, and epoll only drops an entry when the last copy of the
/// open file description is closed; the copy in flight (or in the other process) keeps the stale
/// entry alive, keyed by (old descriptor number, file). recvmsg hands out the lowest free number,
/// usually that same one, and .NET's epoll_ctl(ADD) then fails with EEXIST: on .NET 10 the first
/// ReceiveAsync that has to wait throws InternalException (EEXIST) from the call itself, which
/// callers that do not expect a synchronous throw can turn into a read that never completes.
/// </summary>
/// <remarks>
/// In the descriptor-counting collection so that no parallel test opens or closes descriptors in
/// between: that keeps the lowest-free-number reuse, which the bug needs, deterministic.
/// </remarks>
[Collection(DescriptorCountingCollection.Name)]
public sealed class ReturnedSocketTests(ITestOutputHelper output)
{
    private static readonly TimeSpan IoWait = TimeSpan.FromSeconds(5);

    public enum Hops
    {
        /// <summary>Only the router uses async I/O; lower holes plugged so every hop gets S's number.</summary>
        AsyncOnlyBeforeGivingAway,

        /// <summary>Both ends use async I/O; S3 gets S2's (lowest free) number.</summary>
        AsyncOnBothSides,

        /// <summary>Like the first, but the socket is just disposed after Send instead of released.</summary>
        DisposedInsteadOfReleased,
    }

    [LinuxTheory]
    [InlineData(Hops.AsyncOnlyBeforeGivingAway)]
    [InlineData(Hops.AsyncOnBothSides)]
    [InlineData(Hops.DisposedInsteadOfReleased)]
    public async Task A_connection_handed_away_and_back_still_receives_asynchronously(Hops hops)
    {
        // The kernel gives S3 the lowest free number, which another thread of this process (the test runner runs
        // other tests meanwhile) may take first: then the case is not set up, and it is set up again.
        for (var attempt = 1; attempt <= 5; attempt++)
            if (await HandedAwayAndBackAsync(hops)) return;
        Assert.Fail("precondition never met in 5 attempts: S3 never reused a registered descriptor number");
    }

    private async Task<bool> HandedAwayAndBackAsync(Hops hops)
    {
        using var channel = new ChannelPair();
        using var tcp = new TcpPair();
        bool release = hops != Hops.DisposedInsteadOfReleased;

        // S: used asynchronously first, so .NET's epoll engine has registered its descriptor.
        Socket s = tcp.Accepted;
        await AssertReceivesAsync(tcp.Client, s, "one");
        int fd1 = (int)s.Handle;
        var registered = new List<int> { fd1 };
        using DescriptorPlugs plugs = hops == Hops.AsyncOnBothSides ? new(-1) : new(fd1);

        // Router → worker.
        Socket s2 = PassAndRelease(channel.Router, channel.Worker, s, release);
        int fd2 = (int)s2.Handle;
        if (hops == Hops.AsyncOnBothSides)
        {
            await AssertReceivesAsync(tcp.Client, s2, "two");
            registered.Add(fd2);
        }

        // Worker → router: the same connection comes back.
        using Socket s3 = PassAndRelease(channel.Worker, channel.Router, s2, release);
        int fd3 = (int)s3.Handle;
        output.WriteLine($"descriptor numbers: S={fd1} S2={fd2} S3={fd3}");
        if (!registered.Contains(fd3))
        {
            output.WriteLine($"precondition not met: S3 ({fd3}) did not reuse a registered number ({string.Join(", ", registered)})");
            return false;
        }

        await AssertReceivesAsync(tcp.Client, s3, "three");
        await s3.SendAsync(Encoding.ASCII.GetBytes("back"));
        var buffer = new byte[4];
        Assert.Equal(4, tcp.Client.Receive(buffer));
        Assert.Equal("back", Encoding.ASCII.GetString(buffer));
        return true;
    }

    [LinuxFact]
    public async Task A_connection_bounced_many_times_keeps_receiving_asynchronously()
    {
        using var channel = new ChannelPair();
        using var tcp = new TcpPair();
        Socket current = tcp.Accepted;
        var seen = new List<int>();
        try
        {
            for (int hop = 0; hop < 10; hop++)
            {
                await AssertReceivesAsync(tcp.Client, current, $"hop{hop}");
                seen.Add((int)current.Handle);
                (Socket from, Socket to) = hop % 2 == 0 ? (channel.Router, channel.Worker) : (channel.Worker, channel.Router);
                current = PassAndRelease(from, to, current);
            }

            await AssertReceivesAsync(tcp.Client, current, "last");
        }
        finally
        {
            output.WriteLine($"descriptor numbers per hop: {string.Join(' ', seen)}");
            current.Dispose();
        }
    }

    private static Socket PassAndRelease(Socket from, Socket to, Socket socket, bool release = true)
    {
        UnixHandover.Send(from, new byte[] { 1 }, socket, Bounds.Token());
        if (release)
        {
            UnixHandover.ReleaseAfterHandover(socket);
        }
        else
        {
            socket.Dispose(); // nothing pending, so this does not disturb the connection
        }

        Assert.Equal(1, UnixHandover.Receive(to, new byte[16], out Socket? received, Bounds.Token()));
        return Assert.IsType<Socket>(received);
    }

    private static async Task AssertReceivesAsync(Socket client, Socket server, string text)
    {
        byte[] expected = Encoding.ASCII.GetBytes(text);
        var buffer = new byte[expected.Length];
        using var cts = new CancellationTokenSource(IoWait);

        // Start the receive before the data is there, so it has to wait for epoll readiness.
        ValueTask<int> receiving = server.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        await Task.Delay(20);
        client.Send(expected);

        int read = await receiving;
        while (read < buffer.Length)
        {
            read += await server.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cts.Token);
        }

        Assert.Equal(text, Encoding.ASCII.GetString(buffer));
    }
}

/// <summary>
/// Fills every free descriptor number below <c>above</c> (with /dev/null), so the next descriptor
/// the kernel hands out is the lowest one freed after this: the one just given away.
/// </summary>
internal sealed class DescriptorPlugs : IDisposable
{
    private readonly List<Microsoft.Win32.SafeHandles.SafeFileHandle> _plugs = [];

    public DescriptorPlugs(int above)
    {
        while (above >= 0)
        {
            var plug = File.OpenHandle("/dev/null");
            _plugs.Add(plug);
            if ((int)plug.DangerousGetHandle() > above)
            {
                break;
            }
        }
    }

    public void Dispose() => _plugs.ForEach(plug => plug.Dispose());
}

/// <summary>A theory that only runs on Linux, where <see cref="UnixHandover"/> is supported.</summary>
public sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute()
    {
        if (!UnixHandover.IsSupported)
        {
            Skip = "UnixHandover is Linux-only.";
        }
    }
}
