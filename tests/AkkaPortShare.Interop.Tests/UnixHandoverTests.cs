using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace AkkaPortShare.Interop.Tests;

public sealed class UnixHandoverTests
{
    private static readonly byte[] Preamble = Encoding.ASCII.GetBytes("net.tcp://host/svc/");

    [LinuxFact]
    public void Message_without_descriptor_round_trips()
    {
        using var channel = new ChannelPair();
        byte[] payload = Encoding.UTF8.GetBytes("hello worker");

        UnixHandover.Send(channel.Router, payload, cancellationToken: Bounds.Token());
        var buffer = new byte[UnixHandover.MaxMessageSize];
        int length = UnixHandover.Receive(channel.Worker, buffer, out Socket? received, Bounds.Token());

        Assert.Equal(payload, buffer[..length]);
        Assert.Null(received);
    }

    [LinuxFact]
    public void Message_boundaries_are_kept()
    {
        using var channel = new ChannelPair();
        UnixHandover.Send(channel.Router, new byte[] { 1, 2, 3 }, cancellationToken: Bounds.Token());
        UnixHandover.Send(channel.Router, new byte[] { 4, 5 }, cancellationToken: Bounds.Token());

        var buffer = new byte[100];
        int first = UnixHandover.Receive(channel.Worker, buffer, out _, Bounds.Token());
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer[..first]);
        int second = UnixHandover.Receive(channel.Worker, buffer, out _, Bounds.Token());
        Assert.Equal(new byte[] { 4, 5 }, buffer[..second]);
    }

    [LinuxFact]
    public void A_message_of_MaxMessageSize_round_trips_with_a_descriptor()
    {
        using var channel = new ChannelPair();
        using var tcp = new TcpPair();
        byte[] payload = new byte[UnixHandover.MaxMessageSize];
        Random.Shared.NextBytes(payload);

        UnixHandover.Send(channel.Router, payload, tcp.Accepted, Bounds.Token());
        var buffer = new byte[UnixHandover.MaxMessageSize];
        int length = UnixHandover.Receive(channel.Worker, buffer, out Socket? received, Bounds.Token());
        using (received)
        {
            Assert.Equal(payload, buffer[..length]);
            Assert.NotNull(received);
        }
    }

    [LinuxFact]
    public void TrySend_passes_a_descriptor_while_there_is_room_and_returns_false_without_waiting_when_there_is_none()
    {
        using var channel = new ChannelPair();
        using var tcp = new TcpPair();
        channel.Router.SendBufferSize = 4096;

        Assert.True(UnixHandover.TrySend(channel.Router, Preamble, tcp.Accepted));
        var buffer = new byte[UnixHandover.MaxMessageSize];
        int length = UnixHandover.Receive(channel.Worker, buffer, out Socket? received, Bounds.Token());
        using (received)
        {
            Assert.Equal(Preamble, buffer[..length]);
            Assert.NotNull(received);
        }

        // Nobody reads: the channel fills, and TrySend says so instead of waiting; nothing half-sent is left.
        int sent = 0;
        while (UnixHandover.TrySend(channel.Router, new byte[1024]))
        {
            Assert.True(++sent < 100_000, "the channel never filled");
        }

        Assert.False(UnixHandover.TrySend(channel.Router, Preamble, tcp.Accepted));
        for (int i = 0; i < sent; i++)
        {
            Assert.Equal(1024, UnixHandover.Receive(channel.Worker, buffer, out Socket? none, Bounds.Token()));
            Assert.Null(none);
        }

        Assert.True(UnixHandover.TrySend(channel.Router, Preamble));
    }

    [LinuxFact]
    public void Send_rejects_empty_and_oversized_payloads()
    {
        using var channel = new ChannelPair();
        Assert.Throws<ArgumentException>(() => UnixHandover.Send(channel.Router, ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentException>(() => UnixHandover.Send(channel.Router, new byte[UnixHandover.MaxMessageSize + 1]));
    }

    [LinuxFact]
    public void Handed_over_tcp_connection_keeps_working_after_the_original_is_released()
    {
        using var channel = new ChannelPair();
        using var tcp = new TcpPair();

        // The router reads the preamble with a synchronous call: the descriptor stays blocking.
        tcp.Client.Send(Preamble);
        byte[] preamble = ReceiveExactly(tcp.Accepted, Preamble.Length);
        Assert.False(Native.IsNonBlocking(tcp.Accepted));

        using Socket worker = HandOver(channel, tcp, preamble, out byte[] receivedPreamble);

        Assert.Equal(Preamble, receivedPreamble);
        AssertConversationWorks(tcp.Client, worker);
        AssertGracefulClose(tcp.Client, worker);
    }

    [LinuxFact]
    public async Task Handed_over_tcp_connection_works_when_the_router_used_async_operations()
    {
        using var channel = new ChannelPair();
        using var tcp = new TcpPair();

        // An async receive puts the descriptor into O_NONBLOCK. That flag lives on the open file
        // description, so the worker's copy inherits it.
        tcp.Client.Send(Preamble);
        var preamble = new byte[Preamble.Length];
        int read = 0;
        while (read < preamble.Length)
        {
            read += await tcp.Accepted.ReceiveAsync(preamble.AsMemory(read)).AsTask().WaitAsync(Bounds.Wait);
        }

        Assert.True(Native.IsNonBlocking(tcp.Accepted));

        using Socket worker = HandOver(channel, tcp, preamble, out byte[] receivedPreamble);

        Assert.Equal(Preamble, receivedPreamble);
        Assert.True(Native.IsNonBlocking(worker));
        Assert.True(worker.Blocking);

        // A synchronous receive with nothing to read must wait for its timeout (not fail at once
        // with InvalidOperationException or a spurious TimedOut, as a raw Socket(SafeSocketHandle)
        // over an O_NONBLOCK descriptor does).
        worker.ReceiveTimeout = 300;
        var stopwatch = Stopwatch.StartNew();
        var timeout = Assert.Throws<SocketException>(() => worker.Receive(new byte[1]));
        Assert.Equal(SocketError.TimedOut, timeout.SocketErrorCode);
        Assert.InRange(stopwatch.ElapsedMilliseconds, 200, 5_000);
        worker.ReceiveTimeout = (int)Bounds.Wait.TotalMilliseconds;

        AssertConversationWorks(tcp.Client, worker);

        // Async operations on the received socket work too.
        await tcp.Client.SendAsync(Encoding.ASCII.GetBytes("async"));
        var buffer = new byte[16];
        int n = await worker.ReceiveAsync(buffer).WaitAsync(Bounds.Wait);
        Assert.Equal("async", Encoding.ASCII.GetString(buffer, 0, n));
        await worker.SendAsync(Encoding.ASCII.GetBytes("back"));
        Assert.Equal("back", Encoding.ASCII.GetString(ReceiveExactly(tcp.Client, 4)));

        AssertGracefulClose(tcp.Client, worker);
    }

    [LinuxFact]
    public async Task Releasing_with_a_pending_async_receive_does_not_make_the_worker_reset_the_connection()
    {
        using var channel = new ChannelPair();
        using var tcp = new TcpPair();

        // .NET aborts the pending operation and then closes "abortively" (SO_LINGER 0), which would
        // turn the worker's eventual close into an RST; ReleaseAfterHandover undoes that.
        var pending = tcp.Accepted.ReceiveAsync(new byte[16]);
        await Task.Delay(50);

        UnixHandover.Send(channel.Router, Preamble, tcp.Accepted, Bounds.Token());
        UnixHandover.ReleaseAfterHandover(tcp.Accepted);
        await Assert.ThrowsAnyAsync<Exception>(() => pending.WaitAsync(Bounds.Wait));

        var buffer = new byte[64];
        UnixHandover.Receive(channel.Worker, buffer, out Socket? received, Bounds.Token());
        using Socket worker = Assert.IsType<Socket>(received);
        worker.ReceiveTimeout = (int)Bounds.Wait.TotalMilliseconds;

        AssertConversationWorks(tcp.Client, worker);
        Assert.Equal(0, worker.LingerState!.LingerTime);
        Assert.False(worker.LingerState.Enabled);
        AssertGracefulClose(tcp.Client, worker);
    }

    [LinuxFact]
    public void Releasing_a_socket_that_never_saw_an_async_operation_with_a_plain_close_leaves_the_connection_to_the_worker()
    {
        // The accept loop's hand-over: read synchronously, passed, released with neverAsync (a plain Dispose).
        using var channel = new ChannelPair();
        using var tcp = new TcpPair();
        tcp.Client.Send(Encoding.ASCII.GetBytes("hi"));
        Assert.Equal("hi", Encoding.ASCII.GetString(ReceiveExactly(tcp.Accepted, 2)));

        UnixHandover.Send(channel.Router, Preamble, tcp.Accepted, Bounds.Token());
        UnixHandover.ReleaseAfterHandover(tcp.Accepted, neverAsync: true);
        Assert.Throws<ObjectDisposedException>(() => tcp.Accepted.Available); // the router's copy is gone

        var buffer = new byte[64];
        UnixHandover.Receive(channel.Worker, buffer, out Socket? received, Bounds.Token());
        using Socket worker = Assert.IsType<Socket>(received);
        worker.ReceiveTimeout = (int)Bounds.Wait.TotalMilliseconds;

        AssertConversationWorks(tcp.Client, worker);
        Assert.False(worker.LingerState!.Enabled);
        AssertGracefulClose(tcp.Client, worker);
    }

    [LinuxFact]
    public void ReleaseAfterHandover_is_a_no_op_on_a_disposed_socket()
    {
        using var tcp = new TcpPair();
        tcp.Accepted.Dispose();
        UnixHandover.ReleaseAfterHandover(tcp.Accepted);
    }

    [LinuxFact]
    public void Receive_returns_zero_when_the_peer_closes_the_channel()
    {
        using var channel = new ChannelPair();
        channel.Router.Dispose();

        int length = UnixHandover.Receive(channel.Worker, new byte[16], out Socket? received, Bounds.Token());

        Assert.Equal(0, length);
        Assert.Null(received);
    }

    [LinuxFact]
    public async Task Shutdown_unblocks_a_receiver_that_has_no_token()
    {
        using var channel = new ChannelPair();
        var receiving = Task.Run(() => UnixHandover.Receive(channel.Worker, new byte[16], out _));
        await Task.Delay(200);
        Assert.False(receiving.IsCompleted);

        channel.Worker.Shutdown(SocketShutdown.Both);

        Assert.Equal(0, await receiving.WaitAsync(Bounds.Wait));
    }

    [LinuxFact]
    public async Task Disposing_the_channel_unblocks_a_receiver_and_completes()
    {
        using var channel = new ChannelPair();
        var receiving = Task.Run(() => UnixHandover.Receive(channel.Worker, new byte[16], out _));
        await Task.Delay(200);

        // The receiver holds a reference on the handle, so .NET's Dispose shuts the socket down to
        // get it out (it returns 0) and only then closes the descriptor.
        var disposing = Task.Run(channel.Worker.Dispose);

        Assert.Equal(0, await receiving.WaitAsync(Bounds.Wait));
        await disposing.WaitAsync(Bounds.Wait);
        Assert.Throws<ObjectDisposedException>(() => UnixHandover.Receive(channel.Worker, new byte[16], out _));
    }

    [LinuxFact]
    public async Task Receive_honours_cancellation_and_loses_no_message()
    {
        using var channel = new ChannelPair();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var stopwatch = Stopwatch.StartNew();

        var receiving = Task.Run(() => UnixHandover.Receive(channel.Worker, new byte[16], out _, cts.Token));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receiving.WaitAsync(Bounds.Wait));
        Assert.InRange(stopwatch.ElapsedMilliseconds, 250, 5_000);

        UnixHandover.Send(channel.Router, new byte[] { 7 }, cancellationToken: Bounds.Token());
        var buffer = new byte[16];
        Assert.Equal(1, UnixHandover.Receive(channel.Worker, buffer, out _, Bounds.Token()));
        Assert.Equal(7, buffer[0]);
    }

    [LinuxFact]
    public void Receive_works_on_a_non_blocking_channel()
    {
        using var channel = new ChannelPair();
        channel.Worker.Blocking = false;
        channel.Router.Blocking = false;

        var receiving = Task.Run(() =>
        {
            var buffer = new byte[16];
            int length = UnixHandover.Receive(channel.Worker, buffer, out _, Bounds.Token());
            return buffer[..length];
        });
        Thread.Sleep(100); // let the receiver reach poll(2)
        UnixHandover.Send(channel.Router, new byte[] { 9, 9 }, cancellationToken: Bounds.Token());

        Assert.True(receiving.Wait(Bounds.Wait));
        Assert.Equal(new byte[] { 9, 9 }, receiving.Result);
    }

    [LinuxFact]
    public void Send_to_a_closed_peer_throws_instead_of_raising_SIGPIPE()
    {
        using var channel = new ChannelPair();
        channel.Worker.Dispose();

        var error = Assert.Throws<SocketException>(() => UnixHandover.Send(channel.Router, new byte[] { 1 }, cancellationToken: Bounds.Token()));
        Assert.Contains(error.SocketErrorCode, new[] { SocketError.Shutdown, SocketError.ConnectionReset });
    }

    [LinuxFact]
    public void A_truncated_message_throws_and_closes_the_descriptor_that_came_with_it()
    {
        using var channel = new ChannelPair();
        using var tcp = new TcpPair();
        UnixHandover.Send(channel.Router, new byte[100], tcp.Accepted, Bounds.Token());
        UnixHandover.ReleaseAfterHandover(tcp.Accepted);

        var error = Assert.Throws<IOException>(() => UnixHandover.Receive(channel.Worker, new byte[10], out _, Bounds.Token()));
        Assert.Contains("truncated", error.Message);

        // The worker's copy was the last one, so the client sees the connection closed.
        Assert.Equal(0, tcp.Client.Receive(new byte[1]));
    }

    [LinuxFact]
    public void Peer_credentials_are_this_process_and_user()
    {
        using var channel = new ChannelPair();
        (uint uid, uint gid) = Native.EffectiveIds();

        PeerCredentials routerSeen = UnixHandover.GetPeerCredentials(channel.Worker);
        PeerCredentials workerSeen = UnixHandover.GetPeerCredentials(channel.Router);

        Assert.Equal(new PeerCredentials(Environment.ProcessId, uid, gid), routerSeen);
        Assert.Equal(routerSeen, workerSeen);
        Assert.Equal(uid, UnixHandover.CurrentUserId);
    }

    [LinuxFact]
    public void Listen_creates_a_missing_directory()
    {
        using var path = new TempSocketPath("nested/dir");

        using Socket listener = UnixHandover.Listen(path.Path);

        Assert.True(File.Exists(path.Path));
        AssertAccepts(listener, path.Path);
    }

    [LinuxFact]
    public void Listen_replaces_a_stale_socket_file()
    {
        using var path = new TempSocketPath();

        // A socket file nobody listens on, like one left by a crashed router. (Disposing a .NET
        // listener deletes its file, so a bound socket that never listens stands in for it.)
        Directory.CreateDirectory(path.Directory);
        using var stale = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        stale.Bind(new UnixDomainSocketEndPoint(path.Path));

        using Socket listener = UnixHandover.Listen(path.Path);

        AssertAccepts(listener, path.Path);
    }

    [LinuxFact]
    public void Listen_refuses_a_path_another_listener_is_using()
    {
        using var path = new TempSocketPath();
        using Socket first = UnixHandover.Listen(path.Path);

        Assert.Throws<IOException>(() => UnixHandover.Listen(path.Path));
        using Socket client = UnixHandover.Connect(path.Path); // the first listener is untouched
    }

    private static void AssertAccepts(Socket listener, string path)
    {
        using Socket client = UnixHandover.Connect(path);
        using Socket accepted = listener.Accept();
        Assert.Equal(SocketType.Seqpacket, accepted.SocketType);
    }

    /// <summary>Router side: pass the accepted socket with its preamble, release it; worker side: receive it.</summary>
    private static Socket HandOver(ChannelPair channel, TcpPair tcp, byte[] preamble, out byte[] receivedPreamble)
    {
        UnixHandover.Send(channel.Router, preamble, tcp.Accepted, Bounds.Token());
        UnixHandover.ReleaseAfterHandover(tcp.Accepted);

        var buffer = new byte[UnixHandover.MaxMessageSize];
        int length = UnixHandover.Receive(channel.Worker, buffer, out Socket? received, Bounds.Token());
        receivedPreamble = buffer[..length];

        Socket worker = Assert.IsType<Socket>(received);
        Assert.Equal(SocketType.Stream, worker.SocketType);
        Assert.Equal(tcp.Client.LocalEndPoint, worker.RemoteEndPoint);
        worker.ReceiveTimeout = (int)Bounds.Wait.TotalMilliseconds;
        return worker;
    }

    private static void AssertConversationWorks(Socket client, Socket worker)
    {
        client.Send(Encoding.ASCII.GetBytes("ping"));
        Assert.Equal("ping", Encoding.ASCII.GetString(ReceiveExactly(worker, 4)));
        worker.Send(Encoding.ASCII.GetBytes("pong"));
        Assert.Equal("pong", Encoding.ASCII.GetString(ReceiveExactly(client, 4)));
    }

    /// <summary>The worker's close reaches the client as an orderly end of stream (FIN, not RST).</summary>
    private static void AssertGracefulClose(Socket client, Socket worker)
    {
        worker.Dispose();
        Assert.Equal(0, client.Receive(new byte[1]));
    }

    private static byte[] ReceiveExactly(Socket socket, int count)
    {
        var buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = socket.Receive(buffer, read, count - read, SocketFlags.None);
            Assert.NotEqual(0, n);
            read += n;
        }

        return buffer;
    }
}
