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
    /// <param name="connectTimeout">How long <see cref="Connect"/> waits for the worker (default 5 s).</param>
    public SpliceRelayEngine(int threads, int pipeSize, TimeSpan connectTimeout = default)
    {
        if (connectTimeout <= TimeSpan.Zero) connectTimeout = TimeSpan.FromSeconds(5);
        if (!IsSupported) throw new PlatformNotSupportedException($"splice relay unavailable: {UnsupportedReason}");
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _loops = new SpliceRelayLoop[threads];
        for (int i = 0; i < threads; i++)
            _loops[i] = new SpliceRelayLoop($"splice-relay-{i}", pipeSize, MaxIdlePipesPerThread, connectTimeout);
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
    /// Relays between two connected TCP sockets until both directions end or one fails. The engine takes both
    /// connections from here (their descriptors: the managed sockets are disposed) and closes them;
    /// <paramref name="owner"/> hears of the end once, on an engine thread, unless the relay is aborted. Never blocks.
    /// </summary>
    public SplicedRelay Start(Socket client, Socket worker, ISpliceRelayOwner owner)
    {
        var loop = NextLoop();
        var relay = new SplicedRelay(loop, Detach(client, neverAsync: false), Detach(worker, neverAsync: false), owner);
        loop.Start(relay);
        return relay;
    }

    /// <inheritdoc cref="Start(Socket, Socket, ISpliceRelayOwner)"/>
    public SplicedRelay Start(Socket client, Socket worker, Action<SpliceRelayOutcome> finished) =>
        Start(client, worker, new CallbackOwner(finished));

    /// <summary>
    /// Connects to <paramref name="worker"/> (non-blocking, on an engine thread, bounded by the connect timeout),
    /// sends it <paramref name="preamble"/> (what the router already read of the client) and relays from there. The
    /// client's managed socket is kept only until the connect succeeds; from then on the relay holds descriptors.
    /// Null when the connect failed at once (<paramref name="failure"/> says why; the client is the caller's again);
    /// a connect that fails later is reported to <paramref name="owner"/>'s ConnectFailed with the client. Never
    /// blocks. <paramref name="clientNeverAsync"/>: no asynchronous operation was ever started on the client's socket.
    /// </summary>
    public SplicedRelay? Connect(Socket client, byte[] preamble, IPEndPoint worker, ISpliceRelayOwner owner,
        bool clientNeverAsync, out string? failure)
    {
        int workerFd = ConnectNonBlocking(worker, out failure);
        if (workerFd < 0) return null;
        // A worker on this host has completed the handshake by the time connect() returns (the kernel runs it inside
        // the call): the preamble goes from here, and the relay joins its loop's set without a wake-up of the loop
        // thread on the connection's path. Elsewhere the connect is still under way (the send finds EAGAIN), and the
        // loop completes it.
        int sent = SendAtOnce(workerFd, preamble, out failure);
        if (sent < 0)
        {
            LibC.close(workerFd); // refused (or reset) already: the client is the caller's again
            return null;
        }
        var loop = NextLoop();
        if (preamble.Length > 0 && sent == preamble.Length) return loop.Adopt(client, clientNeverAsync, workerFd, sent, owner);
        var relay = new SplicedRelay(loop, client, workerFd, preamble,
            Environment.TickCount64 + (long)loop.ConnectTimeout.TotalMilliseconds, owner)
        {
            ClientNeverAsync = clientNeverAsync,
            PreambleSent = sent,
        };
        loop.Connect(relay);
        return relay;
    }

    /// <summary>
    /// Sends what a non-blocking socket takes of <paramref name="bytes"/> now, never waiting: the count (less than
    /// all when it is full, 0 while it connects), or -1 with <paramref name="failure"/>.
    /// </summary>
    internal static unsafe int SendAtOnce(int fd, ReadOnlySpan<byte> bytes, out string? failure)
    {
        failure = null;
        int sent = 0;
        fixed (byte* start = bytes)
        {
            while (sent < bytes.Length)
            {
                nint n = LibC.send(fd, start + sent, (nuint)(bytes.Length - sent), LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
                if (n > 0)
                {
                    sent += (int)n;
                    continue;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR) continue;
                if (errno == LibC.EAGAIN) return sent;
                failure = Marshal.GetPInvokeErrorMessage(errno);
                return -1;
            }
        }
        return sent;
    }

    private SpliceRelayLoop NextLoop() => _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length)];

    /// <summary>
    /// Takes a connected socket's connection out of its managed <see cref="Socket"/>: a duplicate descriptor the
    /// engine owns (non-blocking), the managed socket disposed. -1 when no descriptor could be had (the connection is
    /// closed then).
    /// </summary>
    /// <remarks>
    /// .NET put the socket in its own epoll set at its first async operation, edge-triggered; that entry lives as
    /// long as the connection (not the descriptor number), so it goes first, or every readiness change would wake
    /// .NET's thread for nothing (<paramref name="neverAsync"/>: there was none, so there is nothing to take out).
    /// Closing .NET's descriptor then leaves the connection open through ours. The duplicate stays: a managed
    /// Socket cannot be disposed without closing the descriptor it owns.
    /// </remarks>
    internal static unsafe int Detach(Socket socket, bool neverAsync)
    {
        int fd = (int)socket.SafeHandle.DangerousGetHandle();
        if (!neverAsync) EpollSets.Remove(fd);
        int own = LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0);
        socket.Dispose();
        if (own < 0) return -1;
        // A socket's only other status flag is its access mode, which F_SETFL ignores: no F_GETFL first.
        LibC.fcntl(own, LibC.F_SETFL, LibC.O_NONBLOCK);
        return own;
    }

    /// <summary>A non-blocking socket connecting to <paramref name="endPoint"/> (TCP_NODELAY), or -1.</summary>
    private static unsafe int ConnectNonBlocking(IPEndPoint endPoint, out string? failure)
    {
        failure = null;
        var address = endPoint.Address;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        int fd = LibC.socket(v6 ? LibC.AF_INET6 : LibC.AF_INET, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            failure = $"socket: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            return -1;
        }
        int one = 1;
        LibC.setsockopt(fd, LibC.IPPROTO_TCP, LibC.TCP_NODELAY, &one, sizeof(int));
        // sockaddr_in (16 bytes) or sockaddr_in6 (28): family (host order), port (network order), address.
        byte* sockaddr = stackalloc byte[28];
        new Span<byte>(sockaddr, 28).Clear();
        *(ushort*)sockaddr = (ushort)(v6 ? LibC.AF_INET6 : LibC.AF_INET);
        sockaddr[2] = (byte)(endPoint.Port >> 8);
        sockaddr[3] = (byte)endPoint.Port;
        if (v6)
        {
            address.TryWriteBytes(new Span<byte>(sockaddr + 8, 16), out _);
            *(uint*)(sockaddr + 24) = (uint)address.ScopeId;
        }
        else
        {
            address.TryWriteBytes(new Span<byte>(sockaddr + 4, 4), out _);
        }
        if (LibC.connect(fd, sockaddr, v6 ? 28u : 16u) == 0) return fd; // the loop's EPOLLOUT says so again
        int errno = Marshal.GetLastPInvokeError();
        if (errno == LibC.EINPROGRESS) return fd;
        LibC.close(fd);
        failure = Marshal.GetPInvokeErrorMessage(errno);
        return -1;
    }

    private sealed class CallbackOwner(Action<SpliceRelayOutcome> finished) : ISpliceRelayOwner
    {
        public void Finished(SpliceRelayOutcome outcome) => finished(outcome);

        public void ConnectFailed(Socket client, string reason)
        {
            client.Dispose();
            finished(new SpliceRelayOutcome(0, 0, reason));
        }
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
