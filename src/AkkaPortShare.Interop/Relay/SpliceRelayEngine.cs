using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop.Relay;

/// <summary>
/// Relays TCP connections in the kernel: a fixed number of threads, each with an epoll set, move bytes
/// socket → pipe → socket with splice(2), so no byte is copied into this process and an idle relayed connection
/// costs its two descriptors and a small object, not buffers or a waiting task (Linux only; see
/// <see cref="IsSupported"/>).
/// </summary>
/// <remarks>
/// Half-close is passed on (the end of one side's stream becomes shutdown(SHUT_WR) of the other once everything
/// before it is written); an error on either side closes both. Back-pressure: a direction whose destination is
/// full keeps its bytes in its pipe and stops reading its source until the destination drains, so what the engine
/// holds per connection is bounded by two pipes, in the kernel.
/// </remarks>
internal sealed class SpliceRelayEngine : IDisposable
{
    /// <summary>Empty pipes each thread keeps for the next burst (two descriptors each); more are closed.</summary>
    private const int MaxIdlePipesPerThread = 32;

    private static readonly Lazy<string?> s_unsupported = new(Probe);
    private readonly SpliceRelayLoop[] _loops;
    private int _next;

    /// <param name="threads">Threads (each an epoll set); relays are spread over them round-robin.</param>
    /// <param name="pipeSize">Pipe capacity per direction while bytes flow.</param>
    public SpliceRelayEngine(int threads, int pipeSize)
    {
        if (!IsSupported) throw new PlatformNotSupportedException($"splice relay unavailable: {UnsupportedReason}");
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _loops = new SpliceRelayLoop[threads];
        for (int i = 0; i < threads; i++)
            _loops[i] = new SpliceRelayLoop($"splice-relay-{i}", pipeSize, MaxIdlePipesPerThread);
    }

    /// <summary>
    /// True where TCP sockets can be spliced to pipes: Linux, checked once with a real loopback connection (a
    /// kernel or sandbox that answers EINVAL or ENOSYS makes callers use the copying relay).
    /// </summary>
    public static bool IsSupported => s_unsupported.Value is null;

    /// <summary>Why <see cref="IsSupported"/> is false (null when it is true).</summary>
    public static string? UnsupportedReason => s_unsupported.Value;

    /// <summary>Relays running now, over all threads.</summary>
    public int Count => _loops.Sum(l => l.Count);

    /// <summary>Pipes held now (in use and idle), over all threads.</summary>
    public int Pipes => _loops.Sum(l => l.Pipes);

    /// <summary>
    /// Relays between two connected TCP sockets until both directions end or one fails. The engine owns both
    /// sockets from here and closes them; <paramref name="finished"/> runs once, on an engine thread, unless the
    /// relay is aborted. Never blocks.
    /// </summary>
    public SplicedRelay Start(Socket client, Socket worker, Action<SpliceRelayOutcome> finished)
    {
        var loop = _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length)];
        var relay = new SplicedRelay(loop, client, worker, finished);
        Prepare(relay.Up.From);
        Prepare(relay.Down.From);
        loop.Add(relay);
        return relay;
    }

    // .NET put the socket in its own epoll set at its first async operation (edge-triggered: every readiness change
    // would wake its thread for nothing); the engine's reads and writes are non-blocking at the descriptor.
    private static void Prepare(int fd)
    {
        EpollSets.Remove(fd);
        int flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        if (flags >= 0 && (flags & LibC.O_NONBLOCK) == 0) LibC.fcntl(fd, LibC.F_SETFL, flags | LibC.O_NONBLOCK);
    }

    private static unsafe string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux";
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            sender.Connect(listener.LocalEndPoint!);
            using var receiver = listener.Accept();
            sender.Send([42]);
            int* fds = stackalloc int[2];
            if (LibC.pipe2(fds, LibC.O_CLOEXEC | LibC.O_NONBLOCK) < 0)
                return $"pipe2: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            try
            {
                // Blocking socket, one byte already sent: returns at once.
                nint n = LibC.splice((int)receiver.SafeHandle.DangerousGetHandle(), null, fds[1], null, 1, LibC.SPLICE_F_MOVE);
                return n == 1 ? null : $"splice: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            }
            finally
            {
                LibC.close(fds[0]);
                LibC.close(fds[1]);
            }
        }
        catch (Exception e) when (e is SocketException or DllNotFoundException or EntryPointNotFoundException)
        {
            return e.Message;
        }
    }

    public void Dispose()
    {
        foreach (var loop in _loops) loop.Dispose();
    }
}
