using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop.Relay;

/// <summary>
/// One thread of a <see cref="SpliceRelayEngine"/>: an epoll set with both sockets of each of its relays, edge
/// triggered, so an idle relay costs no system call and no wake-up. When a socket is readable its bytes are spliced
/// into a pipe and from there into the other socket; when the other socket cannot take them the bytes stay in the
/// pipe and that side is not read again until the other socket is writable (the pipe is the only buffer: at most its
/// size per direction, in the kernel). Sockets are registered for reading only, and for writing from the first time
/// one is full (<see cref="WaitWritable"/>): a fresh socket is writable, and an ADD that asked for it would wake the
/// loop for nothing at every relay's start. It also connects to the worker for a relay started with
/// <see cref="SpliceRelayEngine.Connect"/> whose connect was still under way: non-blocking, completed by EPOLLOUT,
/// bounded by the engine's connect timeout (the epoll_wait timeout is the oldest connect's deadline). A relay whose
/// connect completed at once is registered by the starting thread (<see cref="Adopt"/>).
/// </summary>
internal sealed unsafe partial class SpliceRelayLoop : IDisposable
{
    private const int MaxEvents = 256;
    private const ulong WakeToken = ulong.MaxValue;
    private const uint ReadEvents = LibC.EPOLLIN | LibC.EPOLLRDHUP | LibC.EPOLLET;
    private const uint ReadWriteEvents = ReadEvents | LibC.EPOLLOUT;
    private const uint Flags = LibC.SPLICE_F_MOVE | LibC.SPLICE_F_NONBLOCK;

    private enum CommandKind { Start, Connect, Abort, Fail }

    private readonly int _epoll;
    private readonly int _wake;
    private readonly int _pipeSize;
    private readonly int _maxIdlePipes;
    private readonly TimeSpan _connectTimeout;
    private readonly Thread _thread;
    // Bounded by the relays started and not yet taken in: the loop drains it at every wake-up.
    private readonly ConcurrentQueue<(CommandKind Kind, SplicedRelay Relay)> _commands = new();
    // Relays another thread put into the set itself (Adopt), not yet known to the loop: taken in after every
    // epoll_wait, before its events (an event of a relay's socket follows its ADD, which follows its enqueue).
    private readonly ConcurrentQueue<SplicedRelay> _adopted = new();
    // The loop's own: every relay it runs (to close at Dispose), and the connects under way, oldest first (one
    // timeout for all, so insertion order is deadline order).
    private readonly HashSet<SplicedRelay> _live = new(ReferenceEqualityComparer.Instance);
    private readonly LinkedList<SplicedRelay> _connecting = new();
    private readonly List<GCHandle> _endedThisBatch = [];
    private readonly Stack<(int Read, int Write)> _idlePipes = new();
    private int _wakePending;
    private volatile bool _stopping;

    /// <param name="pipeSize">Requested pipe capacity (F_SETPIPE_SZ; 0 or the kernel's 64 KiB: left as created).</param>
    /// <param name="maxIdlePipes">Empty pipes kept for the next burst instead of closed (each is two descriptors).</param>
    /// <param name="connectTimeout">How long a connect to a worker may take before its client is given back.</param>
    public SpliceRelayLoop(string name, int pipeSize, int maxIdlePipes, TimeSpan connectTimeout)
    {
        _pipeSize = pipeSize;
        _maxIdlePipes = maxIdlePipes;
        _connectTimeout = connectTimeout;
        _epoll = LibC.epoll_create1(LibC.O_CLOEXEC);
        if (_epoll < 0) throw Failure("epoll_create1");
        _wake = LibC.eventfd(0, LibC.O_CLOEXEC | LibC.O_NONBLOCK);
        if (_wake < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            LibC.close(_epoll);
            throw new IOException($"eventfd failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        Register(_wake, LibC.EPOLLIN, WakeToken);
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    private int _count;

    /// <summary>Relays this loop runs now (connecting or connected).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Pipes this loop holds now, in use or idle (each two descriptors).</summary>
    public int Pipes { get; private set; }

    public TimeSpan ConnectTimeout => _connectTimeout;

    private void Run()
    {
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * LibC.EpollEventSize));
        try
        {
            while (!_stopping)
            {
                int n = LibC.epoll_wait(_epoll, events, MaxEvents, NextTimeout());
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == LibC.EINTR) continue;
                    break; // EBADF/EINVAL: the set is gone (disposed)
                }
                TakeInAdopted();
                bool commands = false;
                for (int i = 0; i < n; i++)
                {
                    byte* e = events + i * LibC.EpollEventSize;
                    uint mask = *(uint*)e;
                    ulong data = *(ulong*)(e + LibC.EpollEventDataOffset);
                    if (data == WakeToken)
                    {
                        commands = true;
                        continue;
                    }
                    OnEvent(data, mask);
                }
                if (commands) RunCommands();
                ExpireConnects();
                // Only now: a later event of the same batch may still name a relay that ended earlier in it.
                foreach (var handle in _endedThisBatch) handle.Free();
                _endedThisBatch.Clear();
            }
        }
        finally
        {
            NativeMemory.Free(events);
            TakeInAdopted();
            RunCommands(); // relays posted but not taken in are closed below with the rest
            foreach (var relay in _live.ToList()) Close(relay, error: null, report: false);
            foreach (var handle in _endedThisBatch) handle.Free();
            while (_idlePipes.TryPop(out var pipe)) ClosePipe(pipe.Read, pipe.Write);
            LibC.close(_wake);
            LibC.close(_epoll);
        }
    }

    // The epoll data is the relay's GCHandle shifted left; the low bit says which socket (0 client, 1 worker).
    private static ulong Token(SplicedRelay relay, int side) => ((ulong)GCHandle.ToIntPtr(relay.Handle) << 1) | (uint)side;

    private void OnEvent(ulong data, uint mask)
    {
        if (GCHandle.FromIntPtr((nint)(data >> 1)).Target is not SplicedRelay relay || relay.Ended) return;
        if (relay.Connecting)
        {
            FinishConnect(relay, mask); // only the worker's socket is in the set yet
            return;
        }
        // Side 0 is the client's socket: readable moves bytes up, writable lets waiting bytes down; side 1 mirrors.
        bool workerSide = (data & 1) == 1;
        var (reading, writing) = workerSide ? (relay.Down, relay.Up) : (relay.Up, relay.Down);
        if ((mask & (LibC.EPOLLIN | LibC.EPOLLRDHUP | LibC.EPOLLHUP | LibC.EPOLLERR)) != 0) Pump(relay, reading);
        bool writable = (mask & (LibC.EPOLLOUT | LibC.EPOLLHUP | LibC.EPOLLERR)) != 0;
        if (!relay.Ended && workerSide && writable && relay.Preamble is not null && SendPreamble(relay)) Pump(relay, relay.Up);
        // Writable with nothing waiting in the pipe is no news: the source side's own readiness wakes that direction.
        if (!relay.Ended && writing.InPipe > 0 && writable) Pump(relay, writing);
        if (!relay.Ended && (mask & LibC.EPOLLERR) != 0)
        {
            int fd = workerSide ? relay.WorkerFd : relay.ClientFd;
            Close(relay, SocketError(fd), report: true);
        }
    }

    /// <summary>Ends a relay: closes what it holds (both sockets), and tells its owner when <paramref name="report"/>.</summary>
    private void Close(SplicedRelay relay, string? error, bool report)
    {
        if (relay.Ended) return;
        relay.Ended = true;
        if (relay.ConnectingNode is { } node) _connecting.Remove(node);
        relay.ConnectingNode = null;
        Forget(relay);
        ReleasePipe(relay.Up);
        ReleasePipe(relay.Down);
        // The engine holds the only descriptors of both connections: closing them also takes them out of the set.
        if (relay.PendingClient is { } client) client.Dispose(); // aborted while connecting
        else if (relay.ClientFd >= 0) LibC.close(relay.ClientFd);
        relay.PendingClient = null;
        LibC.close(relay.WorkerFd);
        var owner = relay.Owner;
        relay.Owner = null;
        if (!report || owner is null) return;
        try
        {
            owner.Finished(new SpliceRelayOutcome(relay.Up.Moved, relay.Down.Moved, error));
        }
        catch (Exception)
        {
            // The owner's callback must not take down the loop every other relay depends on.
        }
    }

    /// <summary>The loop lets go of an ended relay (its handle is freed after the batch of events).</summary>
    private void Forget(SplicedRelay relay)
    {
        if (_live.Remove(relay)) _endedThisBatch.Add(relay.Handle); // else never taken in: counted, not named
        Interlocked.Decrement(ref _count);
    }

    private bool Register(int fd, uint events, ulong data) => Control(LibC.EPOLL_CTL_ADD, fd, events, data);

    private bool Control(int operation, int fd, uint events, ulong data)
    {
        byte* e = stackalloc byte[16];
        *(uint*)e = events;
        *(ulong*)(e + LibC.EpollEventDataOffset) = data;
        return LibC.epoll_ctl(_epoll, operation, fd, e) == 0;
    }

    private static int SocketErrno(int fd)
    {
        int error = 0;
        uint length = sizeof(int);
        return LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_ERROR, &error, &length) < 0 ? Marshal.GetLastPInvokeError() : error;
    }

    private static string SocketError(int fd)
    {
        int error = SocketErrno(fd);
        return $"socket error: {(error == 0 ? "unknown" : Marshal.GetPInvokeErrorMessage(error))}";
    }

    private static string ErrnoText(string call) => $"{call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";

    private static IOException Failure(string call) => new(ErrnoText(call));

    public void Dispose()
    {
        _stopping = true;
        Wake();
        _thread.Join(TimeSpan.FromSeconds(5));
    }
}
