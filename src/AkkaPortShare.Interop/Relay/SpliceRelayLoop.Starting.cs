using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop.Relay;

/// <summary>
/// How relays come into the loop: posted by another thread (Start, Connect, Abort), put into the set by the starting
/// thread itself (Adopt), or connected here (the worker's connect completes by EPOLLOUT, or fails, or times out).
/// </summary>
internal sealed unsafe partial class SpliceRelayLoop
{
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
}
