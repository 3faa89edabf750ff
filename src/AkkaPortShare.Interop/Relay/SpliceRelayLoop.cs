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

    private enum CommandKind { Add, Abort }

    private readonly int _epoll;
    private readonly int _wake;
    private readonly int _pipeSize;
    private readonly int _maxIdlePipes;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<(CommandKind Kind, SplicedRelay Relay)> _commands = new();
    private readonly List<SplicedRelay?> _relays = [];
    private readonly Stack<int> _freeSlots = new();
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

    /// <summary>Relays this loop runs now (read without a lock: for tests and metrics, may lag by a command).</summary>
    public int Count { get; private set; }

    /// <summary>Pipes this loop holds now, in use or idle (each two descriptors).</summary>
    public int Pipes { get; private set; }

    public void Add(SplicedRelay relay) => Post(CommandKind.Add, relay);

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
            }
        }
        finally
        {
            NativeMemory.Free(events);
            foreach (var relay in _relays)
                if (relay is not null) Close(relay, error: null, report: false);
            while (_commands.TryDequeue(out var c))
                if (c.Kind == CommandKind.Add) Close(c.Relay, error: null, report: false);
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
            if (command.Kind == CommandKind.Abort)
            {
                if (!relay.Ended) Close(relay, error: null, report: false);
                continue;
            }
            if (relay.Ended) continue; // aborted before it was added
            int slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _relays.Count;
            if (slot == _relays.Count) _relays.Add(relay);
            else _relays[slot] = relay;
            relay.Slot = slot;
            Count++;
            // An ADD of a descriptor that is ready queues its event, but bytes that came before are taken now anyway.
            if (!Register(relay.Up.From, SocketEvents, (ulong)slot << 1) || !Register(relay.Down.From, SocketEvents, ((ulong)slot << 1) | 1))
            {
                Close(relay, $"epoll_ctl ADD failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}", report: true);
                continue;
            }
            Pump(relay, relay.Up);
            if (!relay.Ended) Pump(relay, relay.Down);
        }
    }

    private void OnEvent(ulong data, uint mask)
    {
        int slot = (int)(data >> 1);
        if (slot >= _relays.Count || _relays[slot] is not { } relay) return; // ended earlier in this batch
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
        if (relay.Slot >= 0)
        {
            LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_DEL, relay.Up.From, null);
            LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_DEL, relay.Down.From, null);
            _relays[relay.Slot] = null;
            _freeSlots.Push(relay.Slot);
            relay.Slot = -1;
            Count--;
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
