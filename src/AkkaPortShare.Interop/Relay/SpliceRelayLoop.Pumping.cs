using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop.Relay;

/// <summary>Moving bytes: socket to pipe to socket, waiting for a full destination, and the pool of pipes.</summary>
internal sealed unsafe partial class SpliceRelayLoop
{
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
}
