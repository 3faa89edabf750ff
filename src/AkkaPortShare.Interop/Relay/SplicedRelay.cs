using System.Net.Sockets;

namespace AkkaPortShare.Interop.Relay;

/// <summary>How a spliced relay ended: bytes moved each way, and the error that ended it (null: both sides closed).</summary>
internal readonly record struct SpliceRelayOutcome(long ToWorker, long ToClient, string? Error);

/// <summary>
/// One relayed connection inside a <see cref="SpliceRelayEngine"/>: the two sockets it owns from
/// <see cref="SpliceRelayEngine.Start"/> until it ends, and one <see cref="SpliceDirection"/> each way. Only its
/// loop's thread touches the state; other threads only <see cref="Abort"/>.
/// </summary>
internal sealed class SplicedRelay
{
    private readonly SpliceRelayLoop _loop;

    internal SplicedRelay(SpliceRelayLoop loop, Socket client, Socket worker, Action<SpliceRelayOutcome> finished)
    {
        _loop = loop;
        Client = client;
        Worker = worker;
        Finished = finished;
        int clientFd = (int)client.SafeHandle.DangerousGetHandle();
        int workerFd = (int)worker.SafeHandle.DangerousGetHandle();
        Up = new SpliceDirection(clientFd, workerFd);
        Down = new SpliceDirection(workerFd, clientFd);
    }

    internal Socket Client { get; }
    internal Socket Worker { get; }

    /// <summary>Client → worker.</summary>
    internal SpliceDirection Up { get; }

    /// <summary>Worker → client.</summary>
    internal SpliceDirection Down { get; }

    /// <summary>Null once reported or aborted: the owner hears of the end at most once.</summary>
    internal Action<SpliceRelayOutcome>? Finished { get; set; }

    /// <summary>Names the relay in the epoll data; freed by the loop after the relay ended.</summary>
    internal System.Runtime.InteropServices.GCHandle Handle { get; set; }

    /// <summary>Why it could not be put into the epoll set (the loop closes it and reports this).</summary>
    internal string? AddError { get; set; }

    internal bool Ended { get; set; }

    /// <summary>True while <see cref="SpliceRelayLoop.Add"/> registers the sockets on the caller's thread.</summary>
    internal volatile bool Adding;

    /// <summary>
    /// Ends the relay at once from any thread (its owner stopped): both sockets are closed by the loop, and the
    /// owner is not told. Harmless after the relay ended by itself.
    /// </summary>
    public void Abort() => _loop.Abort(this);
}

/// <summary>
/// One direction of a relay: bytes go from <see cref="From"/> into a pipe (splice, no copy), and from the pipe to
/// <see cref="To"/>. The pipe is taken from the loop's pool when bytes arrive and given back as soon as it is empty
/// again, so an idle relay holds no pipe: only its two sockets.
/// </summary>
internal sealed class SpliceDirection(int from, int to)
{
    public int From { get; } = from;
    public int To { get; } = to;

    /// <summary>The pipe's read and write ends, -1 while the direction holds none.</summary>
    public int PipeRead { get; set; } = -1;
    public int PipeWrite { get; set; } = -1;

    /// <summary>Bytes in the pipe, not yet written to <see cref="To"/>. While non-zero, <see cref="From"/> is not read.</summary>
    public int InPipe { get; set; }

    /// <summary>Bytes written to <see cref="To"/>.</summary>
    public long Moved { get; set; }

    /// <summary><see cref="From"/> reached its end of stream (the peer's FIN).</summary>
    public bool SourceEnded { get; set; }

    /// <summary>The end was passed on: everything written and <see cref="To"/> shut down for sending.</summary>
    public bool Done { get; set; }
}
