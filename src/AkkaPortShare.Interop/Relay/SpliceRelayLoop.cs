using System.Collections.Concurrent;
using System.Net.Sockets;
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
internal sealed unsafe class SpliceRelayLoop : IDisposable
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

    /// <summary>A relay whose two sockets are connected: the loop puts both into its set.</summary>
    public void Start(SplicedRelay relay) => Post(CommandKind.Start, relay, counts: true);

    /// <summary>A relay whose worker socket is connecting: the loop waits for it (and its deadline).</summary>
    public void Connect(SplicedRelay relay) => Post(CommandKind.Connect, relay, counts: true);

    public void Abort(SplicedRelay relay) => Post(CommandKind.Abort, relay, counts: false);

    /// <summary>
    /// On the caller's thread: a relay whose worker socket is connected and has its preamble. The client's
    /// descriptor is taken from its socket and both go into the set from here, for reading only (nothing has
    /// arrived to move yet, or the ADD announces it); the loop learns of the relay at its next wake-up, which is
    /// the first event of its sockets at the latest. So starting a relay wakes no other thread.
    /// </summary>
    public SplicedRelay Adopt(Socket client, bool clientNeverAsync, int workerFd, int preambleSent, ISpliceRelayOwner owner)
    {
        int clientFd = SpliceRelayEngine.Detach(client, clientNeverAsync);
        var relay = new SplicedRelay(this, clientFd, workerFd, owner);
        relay.Up.Moved = preambleSent;
        if (clientFd < 0)
        {
            // The client's socket is closed already (its descriptor could not be taken): as FinishConnect does.
            string failure = ErrnoText("taking the client's descriptor");
            relay.Ended = true;
            relay.Owner = null;
            LibC.close(workerFd);
            owner.Finished(new SpliceRelayOutcome(preambleSent, 0, failure));
            return relay;
        }
        Interlocked.Increment(ref _count);
        relay.Handle = GCHandle.Alloc(relay);
        _adopted.Enqueue(relay);
        if (!Register(workerFd, ReadEvents, Token(relay, 1)) || !Register(clientFd, ReadEvents, Token(relay, 0)))
        {
            relay.Failure = ErrnoText("epoll_ctl ADD");
            Post(CommandKind.Fail, relay, counts: false);
        }
        return relay;
    }

    private void Post(CommandKind kind, SplicedRelay relay, bool counts)
    {
        if (counts) Interlocked.Increment(ref _count);
        _commands.Enqueue((kind, relay));
        // One eventfd write per batch of commands: the loop clears the flag before it drains the queue.
        if (Interlocked.Exchange(ref _wakePending, 1) == 0) Wake();
    }

    private void Wake()
    {
        ulong one = 1;
        LibC.write(_wake, &one, sizeof(ulong));
    }

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

    /// <summary>Milliseconds until the oldest connect's deadline (rounded up), or -1 (none under way).</summary>
    private int NextTimeout()
    {
        if (_connecting.First is not { } oldest) return -1;
        long left = oldest.Value.ConnectDeadline - Environment.TickCount64;
        return (int)Math.Clamp(left + 1, 0, int.MaxValue);
    }

    private void ExpireConnects()
    {
        if (_connecting.First is null) return;
        long now = Environment.TickCount64;
        while (_connecting.First is { } oldest && oldest.Value.ConnectDeadline <= now)
            FailConnect(oldest.Value, $"connect timed out after {_connectTimeout.TotalMilliseconds:0} ms");
    }

    private void TakeInAdopted()
    {
        while (_adopted.TryDequeue(out var relay)) _live.Add(relay);
    }

    private void RunCommands()
    {
        ulong ignored;
        LibC.read(_wake, &ignored, sizeof(ulong));
        Volatile.Write(ref _wakePending, 0);
        while (_commands.TryDequeue(out var command))
        {
            var relay = command.Relay;
            switch (command.Kind)
            {
                case CommandKind.Abort:
                    Close(relay, error: null, report: false);
                    break;
                case CommandKind.Fail:
                    Close(relay, relay.Failure, report: true);
                    break;
                case CommandKind.Start:
                    TakeIn(relay, ReadEvents);
                    // An ADD of a descriptor that is ready queues its event: bytes that came before are not missed.
                    if (!relay.Ended && !Register(relay.ClientFd, ReadEvents, Token(relay, 0)))
                        Close(relay, ErrnoText("epoll_ctl ADD"), report: true);
                    break;
                case CommandKind.Connect:
                    // Writable is how a connect reports that it completed.
                    relay.WorkerWritableAsked = true;
                    TakeIn(relay, ReadWriteEvents);
                    if (relay.Ended) break;
                    relay.ConnectingNode = _connecting.AddLast(relay);
                    break;
            }
        }
    }

    /// <summary>Names the relay in the epoll set and registers the worker's socket (the client's follows).</summary>
    private void TakeIn(SplicedRelay relay, uint workerEvents)
    {
        if (relay.Ended) return; // aborted before the loop saw it: Close has done the rest
        relay.Handle = GCHandle.Alloc(relay);
        _live.Add(relay);
        if (Register(relay.WorkerFd, workerEvents, Token(relay, 1))) return;
        if (relay.Connecting) FailConnect(relay, ErrnoText("epoll_ctl ADD"));
        else Close(relay, ErrnoText("epoll_ctl ADD"), report: true);
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

    /// <summary>The worker's socket reported: connected (EPOLLOUT, no error) or failed (SO_ERROR).</summary>
    private void FinishConnect(SplicedRelay relay, uint mask)
    {
        // Writable without an error is a connect that succeeded (a failed one sets the socket's error, which epoll
        // reports as EPOLLERR): SO_ERROR is asked only otherwise.
        bool failed = (mask & (LibC.EPOLLERR | LibC.EPOLLHUP)) != 0;
        if (failed || (mask & LibC.EPOLLOUT) == 0)
        {
            int error = SocketErrno(relay.WorkerFd);
            if (error != 0) FailConnect(relay, Marshal.GetPInvokeErrorMessage(error));
            else if (failed) FailConnect(relay, "the worker closed the connection while it was being made");
            return; // else not yet
        }

        _connecting.Remove(relay.ConnectingNode!);
        relay.ConnectingNode = null;
        var client = relay.PendingClient!;
        int clientFd = SpliceRelayEngine.Detach(client, relay.ClientNeverAsync);
        if (clientFd < 0)
        {
            // The client's socket is closed already (its descriptor could not be taken): nothing to answer.
            relay.PendingClient = null;
            Close(relay, ErrnoText("taking the client's descriptor"), report: true);
            return;
        }
        relay.Connected(clientFd);
        if (!Register(clientFd, ReadEvents, Token(relay, 0)))
        {
            Close(relay, ErrnoText("epoll_ctl ADD"), report: true);
            return;
        }
        // The preamble first (a fresh socket takes a few KiB at once); the client's later bytes follow it, and those
        // that came already are announced by the ADD above.
        SendPreamble(relay);
    }

    /// <summary>Sends what is left of the preamble; true once all of it is sent (false: wait for EPOLLOUT, or ended).</summary>
    private bool SendPreamble(SplicedRelay relay)
    {
        var preamble = relay.Preamble!;
        int sent = SpliceRelayEngine.SendAtOnce(relay.WorkerFd, preamble.AsSpan(relay.PreambleSent), out string? failure);
        if (sent < 0)
        {
            Close(relay, $"sending the preamble to the worker: {failure}", report: true);
            return false;
        }
        relay.PreambleSent += sent;
        if (relay.PreambleSent < preamble.Length) return false; // full: the rest on EPOLLOUT
        relay.Up.Moved += preamble.Length;
        relay.Preamble = null;
        return true;
    }

    private void FailConnect(SplicedRelay relay, string reason)
    {
        if (relay.Ended) return;
        relay.Ended = true;
        if (relay.ConnectingNode is { } node) _connecting.Remove(node);
        relay.ConnectingNode = null;
        Forget(relay);
        LibC.close(relay.WorkerFd);
        var client = relay.PendingClient!;
        relay.PendingClient = null;
        var owner = relay.Owner;
        relay.Owner = null;
        if (owner is null) return;
        try
        {
            owner.ConnectFailed(client, reason);
        }
        catch (Exception)
        {
            // The owner's callback must not take down the loop every other relay depends on.
        }
    }

    /// <summary>Moves what one direction can move now, until the source is empty or the destination is full.</summary>
    private void Pump(SplicedRelay relay, SpliceDirection d)
    {
        // Up waits for the preamble: the client's bytes go to the worker after what the router read of them.
        if (relay.Preamble is not null && ReferenceEquals(d, relay.Up)) return;
        while (!d.Done)
        {
            if (d.InPipe > 0)
            {
                nint written = LibC.splice(d.PipeRead, null, d.To, null, (nuint)d.InPipe, Flags);
                if (written > 0)
                {
                    d.InPipe -= (int)written;
                    d.Moved += written;
                    continue;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR) continue;
                if (errno == LibC.EAGAIN)
                {
                    WaitWritable(relay, d); // the destination is full: wait for its EPOLLOUT, read nothing more
                    return;
                }
                Close(relay, $"splice to socket: {Marshal.GetPInvokeErrorMessage(errno)}", report: true);
                return;
            }
            if (d.SourceEnded)
            {
                ReleasePipe(d);
                d.Done = true;
                var other = ReferenceEquals(d, relay.Up) ? relay.Down : relay.Up;
                // The other way ended first, so nothing waits unread in d.To: closing it sends the same FIN.
                if (other.Done) Close(relay, error: null, report: true);
                else LibC.shutdown(d.To, LibC.SHUT_WR); // ENOTCONN after a peer reset is found by the other direction
                return;
            }
            if (d.PipeRead < 0 && !TakePipe(d, out string? failure))
            {
                Close(relay, failure, report: true);
                return;
            }
            nint read = LibC.splice(d.From, null, d.PipeWrite, null, (nuint)_pipeSize, Flags);
            if (read > 0)
            {
                d.InPipe += (int)read;
                continue;
            }
            if (read == 0)
            {
                d.SourceEnded = true;
                continue;
            }
            int readErrno = Marshal.GetLastPInvokeError();
            if (readErrno == LibC.EINTR) continue;
            if (readErrno == LibC.EAGAIN)
            {
                ReleasePipe(d); // empty: idle relays hold no pipe
                return;
            }
            Close(relay, $"splice from socket: {Marshal.GetPInvokeErrorMessage(readErrno)}", report: true);
            return;
        }
    }

    /// <summary>
    /// Asks for the destination's EPOLLOUT from the first time it is full, and keeps asking (a MOD reads the socket's
    /// readiness again, so one that drained in between still reports; later edges are cheap next to a MOD each time).
    /// </summary>
    private void WaitWritable(SplicedRelay relay, SpliceDirection d)
    {
        bool toClient = d.To == relay.ClientFd;
        if (toClient ? relay.ClientWritableAsked : relay.WorkerWritableAsked) return;
        if (!Control(LibC.EPOLL_CTL_MOD, d.To, ReadWriteEvents, Token(relay, toClient ? 0 : 1)))
        {
            Close(relay, ErrnoText("epoll_ctl MOD"), report: true);
            return;
        }
        if (toClient) relay.ClientWritableAsked = true;
        else relay.WorkerWritableAsked = true;
    }

    private bool TakePipe(SpliceDirection d, out string? failure)
    {
        failure = null;
        if (!_idlePipes.TryPop(out var pipe))
        {
            int* fds = stackalloc int[2];
            if (LibC.pipe2(fds, LibC.O_CLOEXEC | LibC.O_NONBLOCK) < 0)
            {
                failure = ErrnoText("pipe2");
                return false;
            }
            pipe = (fds[0], fds[1]);
            Pipes++;
            // Best effort: above /proc/sys/fs/pipe-max-size an unprivileged process keeps the default 64 KiB.
            if (_pipeSize is > 0 and not 65536) LibC.fcntl(fds[1], LibC.F_SETPIPE_SZ, _pipeSize);
        }
        d.PipeRead = pipe.Read;
        d.PipeWrite = pipe.Write;
        return true;
    }

    /// <summary>Gives an empty pipe back to the pool (or closes it); a pipe that still holds bytes is closed.</summary>
    private void ReleasePipe(SpliceDirection d)
    {
        if (d.PipeRead < 0) return;
        if (d.InPipe == 0 && _idlePipes.Count < _maxIdlePipes) _idlePipes.Push((d.PipeRead, d.PipeWrite));
        else ClosePipe(d.PipeRead, d.PipeWrite);
        d.PipeRead = d.PipeWrite = -1;
        d.InPipe = 0;
    }

    private void ClosePipe(int read, int write)
    {
        LibC.close(read);
        LibC.close(write);
        Pipes--;
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
