using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop.Relay;

/// <summary>
/// One thread of a <see cref="SpliceRelayEngine"/>: an epoll set with both sockets of each of its relays, edge
/// triggered for reading and writing, so an idle relay costs no system call and no wake-up. When a socket is
/// readable its bytes are spliced into a pipe and from there into the other socket; when the other socket cannot
/// take them the bytes stay in the pipe and that side is not read again until the other socket is writable (the
/// pipe is the only buffer: at most its size per direction, in the kernel).
/// </summary>
internal sealed unsafe class SpliceRelayLoop : IDisposable
{
    private const int MaxEvents = 256;
    private const ulong WakeToken = ulong.MaxValue;
    private const uint SocketEvents = LibC.EPOLLIN | LibC.EPOLLOUT | LibC.EPOLLRDHUP | LibC.EPOLLET;
    private const uint Flags = LibC.SPLICE_F_MOVE | LibC.SPLICE_F_NONBLOCK;

    private enum CommandKind { Fail, Abort }

    private readonly int _epoll;
    private readonly int _wake;
    private readonly int _pipeSize;
    private readonly int _maxIdlePipes;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<(CommandKind Kind, SplicedRelay Relay)> _commands = new();
    private readonly ConcurrentDictionary<SplicedRelay, byte> _live = new(ReferenceEqualityComparer.Instance); // to close at Dispose
    private readonly List<GCHandle> _endedThisBatch = [];
    private readonly Stack<(int Read, int Write)> _idlePipes = new();
    private int _wakePending;
    private volatile bool _stopping;

    /// <param name="pipeSize">Requested pipe capacity (F_SETPIPE_SZ; 0 or the kernel's 64 KiB: left as created).</param>
    /// <param name="maxIdlePipes">Empty pipes kept for the next burst instead of closed (each is two descriptors).</param>
    public SpliceRelayLoop(string name, int pipeSize, int maxIdlePipes)
    {
        _pipeSize = pipeSize;
        _maxIdlePipes = maxIdlePipes;
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

    /// <summary>Relays this loop runs now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Pipes this loop holds now, in use or idle (each two descriptors).</summary>
    public int Pipes { get; private set; }

    /// <summary>
    /// Puts both sockets into the epoll set from the caller's thread (epoll_ctl is thread-safe): the loop hears of
    /// the relay from the sockets' own readiness, without a wake-up of its own. The epoll data is the relay's
    /// GCHandle (shifted left, the low bit says which socket); the loop frees it after the relay ended.
    /// </summary>
    public void Add(SplicedRelay relay)
    {
        relay.Handle = GCHandle.Alloc(relay);
        relay.Adding = true;
        _live.TryAdd(relay, 0);
        Interlocked.Increment(ref _count);
        ulong token = (ulong)GCHandle.ToIntPtr(relay.Handle) << 1;
        // An ADD of a descriptor that is ready queues its event: bytes that came before are not missed.
        if (!Register(relay.Up.From, SocketEvents, token) || !Register(relay.Down.From, SocketEvents, token | 1))
        {
            relay.AddError = $"epoll_ctl ADD failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            relay.Adding = false;
            Post(CommandKind.Fail, relay);
            return;
        }
        relay.Adding = false;
    }

    public void Abort(SplicedRelay relay) => Post(CommandKind.Abort, relay);

    private void Post(CommandKind kind, SplicedRelay relay)
    {
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
                int n = LibC.epoll_wait(_epoll, events, MaxEvents, -1);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == LibC.EINTR) continue;
                    break; // EBADF/EINVAL: the set is gone (disposed)
                }
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
                // Only now: a later event of the same batch may still name a relay that ended earlier in it.
                foreach (var handle in _endedThisBatch) handle.Free();
                _endedThisBatch.Clear();
            }
        }
        finally
        {
            NativeMemory.Free(events);
            foreach (var relay in _live.Keys) Close(relay, error: null, report: false);
            foreach (var handle in _endedThisBatch) handle.Free();
            while (_idlePipes.TryPop(out var pipe)) ClosePipe(pipe.Read, pipe.Write);
            LibC.close(_wake);
            LibC.close(_epoll);
        }
    }

    private void RunCommands()
    {
        ulong ignored;
        LibC.read(_wake, &ignored, sizeof(ulong));
        Volatile.Write(ref _wakePending, 0);
        while (_commands.TryDequeue(out var command))
        {
            var relay = command.Relay;
            if (command.Kind == CommandKind.Abort) Close(relay, error: null, report: false);
            else Close(relay, relay.AddError, report: true);
        }
    }

    private void OnEvent(ulong data, uint mask)
    {
        if (GCHandle.FromIntPtr((nint)(data >> 1)).Target is not SplicedRelay relay || relay.Ended) return;
        // Side 0 is the client's socket: readable moves bytes up, writable lets waiting bytes down; side 1 mirrors.
        var (reading, writing) = (data & 1) == 0 ? (relay.Up, relay.Down) : (relay.Down, relay.Up);
        if ((mask & (LibC.EPOLLIN | LibC.EPOLLRDHUP | LibC.EPOLLHUP | LibC.EPOLLERR)) != 0) Pump(relay, reading);
        // Writable with nothing waiting in the pipe is no news: the source side's own readiness wakes that direction.
        if (!relay.Ended && writing.InPipe > 0 && (mask & (LibC.EPOLLOUT | LibC.EPOLLHUP | LibC.EPOLLERR)) != 0) Pump(relay, writing);
        if (!relay.Ended && (mask & LibC.EPOLLERR) != 0)
        {
            int fd = (data & 1) == 0 ? relay.Up.From : relay.Down.From;
            Close(relay, SocketError(fd), report: true);
        }
    }

    /// <summary>Moves what one direction can move now, until the source is empty or the destination is full.</summary>
    private void Pump(SplicedRelay relay, SpliceDirection d)
    {
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
                if (errno == LibC.EAGAIN) return; // the destination is full: wait for its EPOLLOUT, read nothing more
                Close(relay, $"splice to socket: {Marshal.GetPInvokeErrorMessage(errno)}", report: true);
                return;
            }
            if (d.SourceEnded)
            {
                ReleasePipe(d);
                LibC.shutdown(d.To, LibC.SHUT_WR); // ENOTCONN after a peer reset is found by the other direction
                d.Done = true;
                if (relay.Up.Done && relay.Down.Done) Close(relay, error: null, report: true);
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

    private bool TakePipe(SpliceDirection d, out string? failure)
    {
        failure = null;
        if (!_idlePipes.TryPop(out var pipe))
        {
            int* fds = stackalloc int[2];
            if (LibC.pipe2(fds, LibC.O_CLOEXEC | LibC.O_NONBLOCK) < 0)
            {
                failure = $"pipe2: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
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

    private void Close(SplicedRelay relay, string? error, bool report)
    {
        if (relay.Ended) return;
        relay.Ended = true;
        // The first socket's event can come before Add registered the second: closing now could free that
        // descriptor number for reuse while Add is about to register it. Add is two system calls away from done.
        var wait = new SpinWait();
        while (relay.Adding) wait.SpinOnce();
        if (_live.TryRemove(relay, out _))
        {
            // Closing the descriptors would drop them from the set too; explicit, in case a copy lives elsewhere.
            LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_DEL, relay.Up.From, null);
            LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_DEL, relay.Down.From, null);
            _endedThisBatch.Add(relay.Handle);
            Interlocked.Decrement(ref _count);
        }
        ReleasePipe(relay.Up);
        ReleasePipe(relay.Down);
        relay.Client.Dispose();
        relay.Worker.Dispose();
        var finished = relay.Finished;
        relay.Finished = null;
        if (!report || finished is null) return;
        try
        {
            finished(new SpliceRelayOutcome(relay.Up.Moved, relay.Down.Moved, error));
        }
        catch (Exception)
        {
            // The owner's callback (a Tell) must not take down the loop every other relay depends on.
        }
    }

    private bool Register(int fd, uint events, ulong data)
    {
        byte* e = stackalloc byte[16];
        *(uint*)e = events;
        *(ulong*)(e + LibC.EpollEventDataOffset) = data;
        return LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_ADD, fd, e) == 0;
    }

    private static string SocketError(int fd)
    {
        int error = 0;
        uint length = sizeof(int);
        LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_ERROR, &error, &length);
        return $"socket error: {(error == 0 ? "unknown" : Marshal.GetPInvokeErrorMessage(error))}";
    }

    private static IOException Failure(string call) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    public void Dispose()
    {
        _stopping = true;
        Wake();
        _thread.Join(TimeSpan.FromSeconds(5));
    }
}
