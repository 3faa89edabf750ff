using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AkkaPortShare.Benchmark.Load;

/// <summary>
/// A loopback TCP relay that adds a round-trip delay: every byte is held for half of it in each direction before it
/// is forwarded, like a long link with plenty of bandwidth. Each direction of each connection is a bounded ring
/// buffer filled by one thread and emptied by another (blocking sockets on dedicated threads, because a sleeping
/// thread wakes within tens of microseconds of its due time, while timer-queue delays drift by a millisecond or more,
/// which would swamp the 1 ms of the 2 ms case). Nothing is allocated per chunk or per byte.
/// </summary>
public sealed class DelayRelay : IDisposable
{
    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly long _oneWayTicks;
    private readonly int _bufferBytes;
    private readonly List<Socket> _sockets = [];
    private readonly Thread _acceptor;
    private volatile bool _disposed;

    public int Port { get; }

    /// <summary>Accepted connections so far.</summary>
    public int Connections { get; private set; }

    /// <param name="roundTripDelay">Added round trip; each direction gets half.</param>
    /// <param name="bufferBytes">Ring size per direction: bounds memory and, like a router queue, in-flight bytes.</param>
    public DelayRelay(IPEndPoint target, TimeSpan roundTripDelay, int bufferBytes = 8 << 20)
    {
        _target = target;
        _oneWayTicks = (long)(roundTripDelay.TotalSeconds / 2 * Stopwatch.Frequency);
        _bufferBytes = bufferBytes;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptor = new Thread(AcceptLoop) { IsBackground = true, Name = "delay-relay accept" };
        _acceptor.Start();
    }

    private void AcceptLoop()
    {
        while (!_disposed)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                client.NoDelay = server.NoDelay = true;
                server.Connect(_target);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }
            lock (_sockets)
            {
                if (_disposed)
                {
                    client.Dispose();
                    server.Dispose();
                    return;
                }
                _sockets.Add(client);
                _sockets.Add(server);
                Connections++;
            }
            new DelayedPipe(client, server, _oneWayTicks, _bufferBytes, Close).Start();
            new DelayedPipe(server, client, _oneWayTicks, _bufferBytes, Close).Start();

            void Close()
            {
                client.Dispose();
                server.Dispose();
            }
        }
    }

    public void Dispose()
    {
        Trace.Dump();
        _disposed = true;
        _listener.Dispose();
        lock (_sockets)
        {
            foreach (var socket in _sockets) socket.Dispose();
            _sockets.Clear();
        }
    }

    /// <summary>
    /// One direction: the reader receives into the free part of the ring and notes (end offset, due time) per chunk;
    /// the writer sends each chunk once it is due. End of input is forwarded as a half-close after the last byte.
    /// </summary>
    private sealed class DelayedPipe(Socket from, Socket to, long delayTicks, int capacity, Action abort)
    {
        private const int MaxChunks = 4096;
        private readonly byte[] _ring = new byte[capacity];
        private readonly long[] _chunkEnd = new long[MaxChunks]; // absolute byte count at the chunk's end
        private readonly long[] _chunkDue = new long[MaxChunks];
        private readonly object _gate = new();
        private long _written; // bytes received into the ring (absolute)
        private long _sent;    // bytes forwarded (absolute)
        private long _chunksIn;
        private long _chunksOut;
        private bool _ended;
        private bool _failed;

        public void Start()
        {
            new Thread(Read) { IsBackground = true, Name = "delay-relay read" }.Start();
            new Thread(Write) { IsBackground = true, Name = "delay-relay write" }.Start();
        }

        private void Read()
        {
            try
            {
                while (true)
                {
                    int offset, length;
                    lock (_gate)
                    {
                        // Wait for room: free bytes in the ring and a free chunk slot (bounded, so a slow writer
                        // slows the sender down through TCP, as a full link queue would).
                        while (!_failed && (_written - _sent == capacity || _chunksIn - _chunksOut == MaxChunks))
                            Monitor.Wait(_gate);
                        if (_failed) return;
                        offset = (int)(_written % capacity);
                        var free = capacity - (int)(_written - _sent);
                        length = Math.Min(free, capacity - offset); // contiguous: a chunk never wraps
                    }
                    var n = from.Receive(_ring, offset, length, SocketFlags.None);
                    var due = Stopwatch.GetTimestamp() + delayTicks;
                    Trace.Record(this, n);
                    lock (_gate)
                    {
                        if (n == 0) _ended = true;
                        else
                        {
                            _written += n;
                            var slot = (int)(_chunksIn % MaxChunks);
                            _chunkEnd[slot] = _written;
                            _chunkDue[slot] = due;
                            _chunksIn++;
                        }
                        Monitor.PulseAll(_gate);
                    }
                    if (n == 0) return;
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                Fail();
            }
        }

        private void Write()
        {
            try
            {
                while (true)
                {
                    long end, due;
                    lock (_gate)
                    {
                        while (!_failed && _chunksOut == _chunksIn && !_ended) Monitor.Wait(_gate);
                        if (_failed) return;
                        if (_chunksOut == _chunksIn)
                        {
                            to.Shutdown(SocketShutdown.Send);
                            return;
                        }
                        var slot = (int)(_chunksOut % MaxChunks);
                        (end, due) = (_chunkEnd[slot], _chunkDue[slot]);
                    }
                    WaitUntil(due);
                    // Every chunk that is due by now and contiguous with this one goes out in the same send.
                    long chunks = 1;
                    lock (_gate)
                    {
                        var now = Stopwatch.GetTimestamp();
                        while (_chunksOut + chunks < _chunksIn)
                        {
                            var next = (int)((_chunksOut + chunks) % MaxChunks);
                            if (_chunkDue[next] > now || (_chunkEnd[next] - 1) / capacity != _sent / capacity) break;
                            end = _chunkEnd[next];
                            chunks++;
                        }
                    }
                    var start = (int)(_sent % capacity);
                    var count = (int)(end - _sent);
                    for (var done = 0; done < count;) done += to.Send(_ring, start + done, count - done, SocketFlags.None);
                    lock (_gate)
                    {
                        _sent = end;
                        _chunksOut += chunks;
                        Monitor.PulseAll(_gate);
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                Fail();
            }
        }

        private static void WaitUntil(long due)
        {
            while (true)
            {
                var left = due - Stopwatch.GetTimestamp();
                if (left <= 0) return;
                // Whole milliseconds sleep in one go; a fraction costs at most one short sleep more.
                Thread.Sleep(Math.Max(1, (int)(left * 1000 / Stopwatch.Frequency)));
            }
        }

        private void Fail()
        {
            lock (_gate)
            {
                _failed = true;
                Monitor.PulseAll(_gate);
            }
            abort();
        }
    }

    // Diagnostics (BENCH_RELAY_TRACE=1): arrival time (monotonic clock in µs, comparable across processes) and size of
    // every chunk, printed when the relay is disposed.
    private static class Trace
    {
        private static readonly bool On = Environment.GetEnvironmentVariable("BENCH_RELAY_TRACE") == "1";
        private static readonly (long At, int Pipe, int Bytes)[] Events = new (long, int, int)[200_000];
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> Ids = new();
        private static int _count;
        private static int _pipes;

        public static void Record(object pipe, int bytes)
        {
            if (!On) return;
            var id = (int)Ids.GetValue(pipe, _ => Interlocked.Increment(ref _pipes));
            var i = Interlocked.Increment(ref _count) - 1;
            if (i < Events.Length) Events[i] = (Stopwatch.GetTimestamp(), id, bytes);
        }

        public static void Dump()
        {
            if (!On) return;
            var n = Math.Min(_count, Events.Length);
            using var w = new StreamWriter($"/tmp/relay-trace-{Environment.ProcessId}-{DateTime.UtcNow:HHmmss}.txt");
            for (var i = 0; i < n; i++) w.WriteLine($"{Events[i].At * 1e6 / Stopwatch.Frequency:F1} {Events[i].Pipe} {Events[i].Bytes}");
            _count = 0;
        }
    }
}
