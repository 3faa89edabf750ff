using System.Net.Sockets;
using AkkaPortShare.Interop.Relay;
using AkkaPortShare.Router.Relay;

namespace AkkaPortShare.Router.Tests.Relay;

/// <summary>
/// Both relay engines, the splice engine and the copying fallback, on real loopback TCP connections: the test holds
/// the far ends (its "client" and its "worker"), the relay the near ends, as the router holds them.
/// </summary>
public sealed class RelaySpec : IDisposable
{
    public enum Engine { Splice, Copy }

    private readonly SpliceRelayEngine? _splice = SpliceRelayEngine.IsSupported ? new SpliceRelayEngine(2, 64 * 1024) : null;

    public void Dispose() => _splice?.Dispose();

    private sealed record Relayed(Socket Client, Socket Worker, Task<(long ToWorker, long ToClient, string? Error)> Finished,
        SplicedRelay? Spliced) : IDisposable
    {
        public void Dispose()
        {
            Client.DisposeQuietly();
            Worker.DisposeQuietly();
        }
    }

    private async Task<Relayed> StartAsync(Engine engine)
    {
        var (clientNear, client) = await Loopback.ConnectedPairAsync();
        var (workerNear, worker) = await Loopback.ConnectedPairAsync();
        if (engine == Engine.Copy)
        {
            var copy = SocketRelay.RunAsync(clientNear, workerNear, 64 * 1024)
                .ContinueWith(t => (t.Result.ToWorker, t.Result.ToClient, t.Result.Error?.Message), TaskScheduler.Default);
            return new Relayed(client, worker, copy, null);
        }
        Assert.True(_splice is not null, $"splice unavailable: {SpliceRelayEngine.UnsupportedReason}");
        var finished = new TaskCompletionSource<(long, long, string?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var spliced = _splice!.Start(clientNear, workerNear, o => finished.TrySetResult((o.ToWorker, o.ToClient, o.Error)));
        return new Relayed(client, worker, finished.Task, spliced);
    }

    private static async Task<T> Bounded<T>(Task<T> task, int seconds = 20) =>
        await task.WaitAsync(TimeSpan.FromSeconds(seconds));

    private static async Task SendInRandomChunksAsync(Socket socket, byte[] bytes, int seed)
    {
        var random = new Random(seed);
        for (int sent = 0; sent < bytes.Length;)
        {
            int chunk = Math.Min(bytes.Length - sent, random.Next(1, 3) == 1 ? random.Next(1, 64) : random.Next(1, 200_000));
            sent += await socket.SendAsync(bytes.AsMemory(sent, chunk), SocketFlags.None);
        }
    }

    private static async Task<byte[]> ReadAllAsync(Socket socket)
    {
        using var all = new MemoryStream();
        var buffer = new byte[37_000]; // odd size: reads end anywhere in the sender's chunks
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0) return all.ToArray();
            all.Write(buffer, 0, n);
        }
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [InlineData(Engine.Splice)]
    [InlineData(Engine.Copy)]
    public async Task Relay_must_move_large_transfers_both_ways_at_once_intact_in_random_chunks(Engine engine)
    {
        using var relay = await StartAsync(engine);
        var up = RandomBytes(12 * 1024 * 1024 + 7, 1);
        var down = RandomBytes(9 * 1024 * 1024 + 3, 2);

        var readAtWorker = ReadAllAsync(relay.Worker);
        var readAtClient = ReadAllAsync(relay.Client);
        var sending = Task.WhenAll(
            SendInRandomChunksAsync(relay.Client, up, 3).ContinueWith(_ => relay.Client.Shutdown(SocketShutdown.Send), TaskScheduler.Default),
            SendInRandomChunksAsync(relay.Worker, down, 4).ContinueWith(_ => relay.Worker.Shutdown(SocketShutdown.Send), TaskScheduler.Default));

        await Bounded(sending.ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default));
        Assert.True((await Bounded(readAtWorker)).AsSpan().SequenceEqual(up), "client → worker bytes differ");
        Assert.True((await Bounded(readAtClient)).AsSpan().SequenceEqual(down), "worker → client bytes differ");
        var (toWorker, toClient, error) = await Bounded(relay.Finished);
        Assert.Null(error);
        Assert.Equal(up.Length, toWorker);
        Assert.Equal(down.Length, toClient);
    }

    [Theory]
    [InlineData(Engine.Splice, true)]
    [InlineData(Engine.Splice, false)]
    [InlineData(Engine.Copy, true)]
    [InlineData(Engine.Copy, false)]
    public async Task Relay_must_pass_a_half_close_on_and_keep_the_other_direction_open(Engine engine, bool clientEndsFirst)
    {
        using var relay = await StartAsync(engine);
        var (first, second) = clientEndsFirst ? (relay.Client, relay.Worker) : (relay.Worker, relay.Client);

        await Loopback.SendAsync(first, "last words"u8.ToArray());
        first.Shutdown(SocketShutdown.Send);
        var atSecond = await Loopback.ReadToEndAsync(second);
        Assert.Equal(StreamEnd.Eof, atSecond.End);
        Assert.Equal("last words"u8.ToArray(), atSecond.Bytes);

        // The other way still flows, in several turns, until that side ends too.
        for (int i = 0; i < 3; i++)
        {
            await Loopback.SendAsync(second, "reply"u8.ToArray());
            Assert.Equal("reply"u8.ToArray(), await Loopback.ReadExactlyAsync(first, 5));
        }
        Assert.False(relay.Finished.IsCompleted);
        second.Shutdown(SocketShutdown.Send);
        Assert.Equal(StreamEnd.Eof, (await Loopback.ReadToEndAsync(first)).End);
        var (toWorker, toClient, error) = await Bounded(relay.Finished);
        Assert.Null(error);
        Assert.Equal(clientEndsFirst ? 10 : 15, toWorker);
        Assert.Equal(clientEndsFirst ? 15 : 10, toClient);
    }

    [Theory]
    [InlineData(Engine.Splice, true)]
    [InlineData(Engine.Splice, false)]
    [InlineData(Engine.Copy, true)]
    [InlineData(Engine.Copy, false)]
    public async Task Relay_must_close_both_sides_when_one_side_resets(Engine engine, bool clientResets)
    {
        using var relay = await StartAsync(engine);
        var (resetting, other) = clientResets ? (relay.Client, relay.Worker) : (relay.Worker, relay.Client);
        await Loopback.SendAsync(resetting, "x"u8.ToArray());
        Assert.Equal("x"u8.ToArray(), await Loopback.ReadExactlyAsync(other, 1));

        resetting.LingerState = new LingerOption(true, 0); // close sends RST
        resetting.Close();

        await Loopback.ReadToEndAsync(other); // EOF or reset, but within the bound: the relay closed its side
        var (_, _, error) = await Bounded(relay.Finished);
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData(Engine.Splice)]
    [InlineData(Engine.Copy)]
    public async Task Relay_must_stop_reading_a_side_whose_peer_does_not_read_and_deliver_everything_once_it_does(Engine engine)
    {
        using var relay = await StartAsync(engine);
        relay.Worker.ReceiveBufferSize = 64 * 1024;
        const int cap = 256 * 1024 * 1024;
        var chunk = RandomBytes(256 * 1024, 5);

        // The worker reads nothing: what the client can send is bounded by socket buffers and the relay's one
        // pipe or buffer, not by memory. A send that does not finish within a second means the relay stopped.
        long sent = 0;
        Task<int>? stuck = null;
        while (sent < cap)
        {
            var send = relay.Client.SendAsync(chunk, SocketFlags.None);
            if (await Task.WhenAny(send, Task.Delay(1000)) != send)
            {
                stuck = send;
                break;
            }
            sent += await send;
        }
        Assert.NotNull(stuck);
        Assert.True(sent < 64 * 1024 * 1024, $"the client sent {sent} bytes into a relay whose worker reads nothing");
        if (_splice is not null && engine == Engine.Splice) Assert.InRange(_splice.Pipes, 1, 2 * 32 + 2);

        var reading = ReadAllAsync(relay.Worker);
        sent += await Bounded(stuck!);
        relay.Client.Shutdown(SocketShutdown.Send);
        var received = await Bounded(reading);
        Assert.Equal(sent, received.Length);
        for (int offset = 0; offset < received.Length; offset += chunk.Length)
            Assert.True(received.AsSpan(offset, Math.Min(chunk.Length, received.Length - offset)).SequenceEqual(chunk.AsSpan(0, Math.Min(chunk.Length, received.Length - offset))));
        relay.Worker.Shutdown(SocketShutdown.Send);
        Assert.Equal(sent, (await Bounded(relay.Finished)).ToWorker);
    }

    [Theory]
    [InlineData(Engine.Splice)]
    [InlineData(Engine.Copy)]
    public async Task Relay_must_run_many_relays_at_once_each_with_its_own_bytes(Engine engine)
    {
        const int relays = 150;
        var all = new List<Relayed>();
        try
        {
            for (int i = 0; i < relays; i++) all.Add(await StartAsync(engine));
            await Bounded(Task.WhenAll(all.Select(async (relay, i) =>
            {
                var up = RandomBytes(1 + i * 997 % 300_000, 100 + i);
                var down = RandomBytes(1 + i * 7919 % 300_000, 1000 + i);
                var atWorker = ReadAllAsync(relay.Worker);
                var atClient = ReadAllAsync(relay.Client);
                await SendInRandomChunksAsync(relay.Client, up, i);
                relay.Client.Shutdown(SocketShutdown.Send);
                await SendInRandomChunksAsync(relay.Worker, down, -i);
                relay.Worker.Shutdown(SocketShutdown.Send);
                Assert.True((await atWorker).AsSpan().SequenceEqual(up));
                Assert.True((await atClient).AsSpan().SequenceEqual(down));
                var (toWorker, toClient, error) = await relay.Finished;
                Assert.Null(error);
                Assert.Equal((up.Length, down.Length), (toWorker, toClient));
                return 0;
            })), 60);
            if (_splice is not null && engine == Engine.Splice)
            {
                Assert.Equal(0, _splice.Count);
                Assert.InRange(_splice.Pipes, 0, 2 * 32); // only the pools' idle pipes are left
            }
        }
        finally
        {
            foreach (var relay in all) relay.Dispose();
        }
    }

    [Fact]
    public async Task Splice_relay_must_hold_no_pipe_while_idle()
    {
        var relays = new List<Relayed>();
        try
        {
            for (int i = 0; i < 100; i++)
            {
                var relay = await StartAsync(Engine.Splice);
                relays.Add(relay);
                await Loopback.SendAsync(relay.Client, "hello"u8.ToArray());
                Assert.Equal("hello"u8.ToArray(), await Loopback.ReadExactlyAsync(relay.Worker, 5));
            }
            Assert.Equal(100, _splice!.Count);
            Assert.InRange(_splice.Pipes, 0, 2); // what one burst at a time took, back in the pools
        }
        finally
        {
            foreach (var relay in relays) relay.Dispose();
        }
    }

    [Fact]
    public async Task Splice_relay_must_close_both_sides_without_reporting_when_aborted()
    {
        using var relay = await StartAsync(Engine.Splice);
        await Loopback.SendAsync(relay.Client, "x"u8.ToArray());
        Assert.Equal("x"u8.ToArray(), await Loopback.ReadExactlyAsync(relay.Worker, 1));

        relay.Spliced!.Abort();

        await Loopback.ReadToEndAsync(relay.Client);
        await Loopback.ReadToEndAsync(relay.Worker);
        await Task.Delay(100);
        Assert.False(relay.Finished.IsCompleted);
        Assert.Equal(0, _splice!.Count);
    }
}

/// <summary>
/// <see cref="SpliceRelayEngine.Connect"/>: the engine makes the connection to the worker itself (non-blocking,
/// bounded by its connect timeout), sends what was read of the client first, then splices; a connect that fails
/// gives the client's socket back untouched. Real loopback connections; the test's listener is the worker.
/// </summary>
public sealed class SpliceConnectSpec : IDisposable
{
    private readonly SpliceRelayEngine? _splice =
        SpliceRelayEngine.IsSupported ? new SpliceRelayEngine(1, 64 * 1024, TimeSpan.FromMilliseconds(300)) : null;
    private readonly Socket _workerListener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public SpliceConnectSpec()
    {
        _workerListener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        _workerListener.Listen(16);
    }

    public void Dispose()
    {
        _splice?.Dispose();
        _workerListener.Dispose();
    }

    private System.Net.IPEndPoint Worker => (System.Net.IPEndPoint)_workerListener.LocalEndPoint!;

    private sealed class Owner : ISpliceRelayOwner
    {
        public TaskCompletionSource<SpliceRelayOutcome> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<(Socket Client, string Reason)> Failed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Finished(SpliceRelayOutcome outcome) => Ended.TrySetResult(outcome);
        public void ConnectFailed(Socket client, string reason) => Failed.TrySetResult((client, reason));
    }

    private SpliceRelayEngine Engine => _splice ?? throw new InvalidOperationException($"splice unavailable: {SpliceRelayEngine.UnsupportedReason}");

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the accept thread's socket: never in .NET's epoll sets, nothing to take out of them
    public async Task Connect_must_send_the_bytes_already_read_before_the_clients_later_bytes_and_relay_both_ways(bool clientNeverAsync)
    {
        var (clientNear, client) = await Loopback.ConnectedPairAsync();
        using var clientFar = client;
        var owner = new Owner();
        // Bytes the client sent after the router's read, before the relay exists: they must follow the preamble.
        await Loopback.SendAsync(client, "-later"u8.ToArray());

        Assert.NotNull(Engine.Connect(clientNear, "preamble"u8.ToArray(), Worker, owner, clientNeverAsync, out var failure));
        Assert.Null(failure);

        using var accepting = new CancellationTokenSource(Loopback.IoTimeout);
        using var worker = await _workerListener.AcceptAsync(accepting.Token);
        Assert.Equal("preamble-later"u8.ToArray(), await Loopback.ReadExactlyAsync(worker, 14));
        await Loopback.SendAsync(worker, "reply"u8.ToArray());
        Assert.Equal("reply"u8.ToArray(), await Loopback.ReadExactlyAsync(client, 5));
        Assert.Equal(1, Engine.Count);

        client.Shutdown(SocketShutdown.Send);
        Assert.Equal(StreamEnd.Eof, (await Loopback.ReadToEndAsync(worker)).End);
        worker.Shutdown(SocketShutdown.Send);
        Assert.Equal(StreamEnd.Eof, (await Loopback.ReadToEndAsync(client)).End);
        var outcome = await owner.Ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new SpliceRelayOutcome(14, 5, null), outcome);
        Assert.False(owner.Failed.Task.IsCompleted);
        Assert.Equal(0, Engine.Count);
    }

    [Fact]
    public async Task Connect_must_give_the_client_back_untouched_when_the_worker_refuses()
    {
        var (clientNear, client) = await Loopback.ConnectedPairAsync();
        using var clientFar = client;
        int closedPort;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            closedPort = ((System.Net.IPEndPoint)probe.LocalEndPoint!).Port; // bound, never listening: refused
        }
        var owner = new Owner();

        var relay = Engine.Connect(clientNear, "preamble"u8.ToArray(), new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, closedPort),
            owner, false, out var failure);

        // Refused at once or from the loop: either way the caller gets the client's socket back, still open.
        Socket returned;
        if (relay is null)
        {
            Assert.NotNull(failure);
            returned = clientNear;
        }
        else
        {
            var (socket, reason) = await owner.Failed.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Contains("refused", reason, StringComparison.OrdinalIgnoreCase);
            Assert.Same(clientNear, socket);
            returned = socket;
        }
        using (returned)
        {
            await Loopback.SendAsync(returned, "fault"u8.ToArray());
            Assert.Equal("fault"u8.ToArray(), await Loopback.ReadExactlyAsync(client, 5));
        }
        Assert.False(owner.Ended.Task.IsCompleted);
        Assert.Equal(0, Engine.Count);
    }

    [Fact]
    public async Task Connect_must_give_the_client_back_when_the_worker_does_not_answer_within_the_connect_timeout()
    {
        using var silent = await FullListener.CreateAsync();
        var (clientNear, client) = await Loopback.ConnectedPairAsync();
        using var clientFar = client;
        var owner = new Owner();
        var started = System.Diagnostics.Stopwatch.StartNew();

        Assert.NotNull(Engine.Connect(clientNear, "preamble"u8.ToArray(), silent.EndPoint, owner, false, out _));

        var (socket, reason) = await owner.Failed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("timed out", reason);
        Assert.InRange(started.ElapsedMilliseconds, 250, 9000); // not before the timeout (300 ms)
        Assert.Same(clientNear, socket);
        socket.Dispose();
        Assert.Equal(0, Engine.Count);
    }

    [Fact]
    public async Task Connect_must_relay_once_a_connect_still_under_way_completes()
    {
        // A connect to this host completes inside connect() and the relay starts from the caller's thread; one to
        // another host is still under way when the engine sends the preamble (EAGAIN), and the loop completes it.
        // The same here: the SYN is dropped by a full accept queue, and the kernel sends it again after a second, by
        // when the queue has room.
        using var busy = await FullListener.CreateAsync();
        using var engine = new SpliceRelayEngine(1, 64 * 1024, TimeSpan.FromSeconds(10));
        var (clientNear, client) = await Loopback.ConnectedPairAsync();
        using var clientFar = client;
        var owner = new Owner();

        var relay = engine.Connect(clientNear, "preamble"u8.ToArray(), busy.EndPoint, owner, false, out var failure);
        Assert.Null(failure);
        Assert.True(relay!.Connecting, "the SYN was dropped: the connect is the loop's to complete");

        busy.MakeRoom();
        using var accepting = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var worker = await busy.Listener.AcceptAsync(accepting.Token);
        Assert.Equal("preamble"u8.ToArray(), await Loopback.ReadExactlyAsync(worker, 8));
        await Loopback.SendAsync(client, "-more"u8.ToArray());
        Assert.Equal("-more"u8.ToArray(), await Loopback.ReadExactlyAsync(worker, 5));
        await Loopback.SendAsync(worker, "reply"u8.ToArray());
        Assert.Equal("reply"u8.ToArray(), await Loopback.ReadExactlyAsync(client, 5));
        Assert.False(owner.Failed.Task.IsCompleted);
        Assert.Equal(1, engine.Count);
    }

    /// <summary>
    /// A loopback listener whose accept queue is full: it drops further SYNs, so a connect to it neither succeeds nor
    /// fails until <see cref="MakeRoom"/>.
    /// </summary>
    private sealed class FullListener : IDisposable
    {
        private readonly List<Socket> _fillers = [];

        public Socket Listener { get; } = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        public System.Net.IPEndPoint EndPoint => (System.Net.IPEndPoint)Listener.LocalEndPoint!;

        public static async Task<FullListener> CreateAsync()
        {
            var full = new FullListener();
            full.Listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            full.Listener.Listen(0);
            for (int i = 0; i < 4; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                full._fillers.Add(filler);
                try { filler.Connect(full.EndPoint); } catch (SocketException) { }
            }
            await Task.Delay(100);
            return full;
        }

        /// <summary>The fillers end (those still connecting send no more SYNs), and those queued are taken.</summary>
        public void MakeRoom()
        {
            foreach (var filler in _fillers) filler.Dispose();
            Listener.Blocking = false;
            while (true)
            {
                try { Listener.Accept().Dispose(); }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock) { break; }
            }
            Listener.Blocking = true;
        }

        public void Dispose()
        {
            foreach (var filler in _fillers) filler.Dispose();
            Listener.Dispose();
        }
    }

    [Fact]
    public async Task Connect_must_close_the_client_without_reporting_when_aborted_while_connecting_or_relaying()
    {
        var (clientNear, client) = await Loopback.ConnectedPairAsync();
        using var clientFar = client;
        var owner = new Owner();
        var relay = Engine.Connect(clientNear, "p"u8.ToArray(), Worker, owner, false, out _)!;
        using var accepting = new CancellationTokenSource(Loopback.IoTimeout);
        using var worker = await _workerListener.AcceptAsync(accepting.Token);
        Assert.Equal("p"u8.ToArray(), await Loopback.ReadExactlyAsync(worker, 1));

        relay.Abort();

        await Loopback.ReadToEndAsync(client);
        await Loopback.ReadToEndAsync(worker);
        await Task.Delay(100);
        Assert.False(owner.Ended.Task.IsCompleted);
        Assert.False(owner.Failed.Task.IsCompleted);
        Assert.Equal(0, Engine.Count);
    }
}
