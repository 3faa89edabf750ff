using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop.Relay;

/// <summary>How a spliced relay ended: bytes moved each way, and the error that ended it (null: both sides closed).</summary>
internal readonly record struct SpliceRelayOutcome(long ToWorker, long ToClient, string? Error);

/// <summary>
/// Who hears how a relay ended, called on an engine thread (keep it short: every relay of that thread waits). One
/// owner serves many relays, so a held relay costs no callback object of its own.
/// </summary>
internal interface ISpliceRelayOwner
{
    /// <summary>A relay that was connected ended (both sides are closed by then).</summary>
    void Finished(SpliceRelayOutcome outcome);

    /// <summary>
    /// <see cref="SpliceRelayEngine.Connect"/> could not reach the worker (refused, unreachable, timed out): nothing
    /// was relayed, and <paramref name="client"/> is the caller's again, untouched (for its fault).
    /// </summary>
    void ConnectFailed(Socket client, string reason);
}

/// <summary>
/// One relayed connection inside a <see cref="SpliceRelayEngine"/>: the two raw descriptors it owns from its start
/// until it ends, and one <see cref="SpliceDirection"/> each way. No managed <see cref="Socket"/> is kept once it is
/// connected (a held relay is this object, its two directions and two descriptors). Only its loop's thread touches
/// the state after the start; other threads only <see cref="Abort"/>.
/// </summary>
internal sealed class SplicedRelay
{
    private readonly SpliceRelayLoop _loop;

    /// <summary>Both sockets connected already (<see cref="SpliceRelayEngine.Start"/>).</summary>
    internal SplicedRelay(SpliceRelayLoop loop, int clientFd, int workerFd, ISpliceRelayOwner owner)
    {
        _loop = loop;
        Owner = owner;
        Up = new SpliceDirection(clientFd, workerFd);
        Down = new SpliceDirection(workerFd, clientFd);
    }

    /// <summary>The worker's socket still connecting (<see cref="SpliceRelayEngine.Connect"/>).</summary>
    internal SplicedRelay(SpliceRelayLoop loop, Socket client, int workerFd, byte[] preamble, long connectDeadline,
        ISpliceRelayOwner owner)
        : this(loop, -1, workerFd, owner)
    {
        PendingClient = client;
        Preamble = preamble;
        ConnectDeadline = connectDeadline;
    }

    /// <summary>Client → worker.</summary>
    internal SpliceDirection Up { get; }

    /// <summary>Worker → client.</summary>
    internal SpliceDirection Down { get; }

    internal int ClientFd => Up.From;
    internal int WorkerFd => Down.From;

    /// <summary>Null once reported or aborted: the owner hears of the end at most once.</summary>
    internal ISpliceRelayOwner? Owner { get; set; }

    /// <summary>The client's socket while the worker's connect is under way (given back if it fails); null after.</summary>
    internal Socket? PendingClient { get; set; }

    /// <summary>Bytes the router read of the client before the relay (its preamble), not yet sent to the worker.</summary>
    internal byte[]? Preamble { get; set; }

    internal int PreambleSent { get; set; }

    /// <summary>Environment.TickCount64 by which the connect must complete.</summary>
    internal long ConnectDeadline { get; }

    internal bool Connecting => PendingClient is not null;

    /// <summary>No asynchronous operation was ever started on the client's socket (see SpliceRelayEngine.Detach).</summary>
    internal bool ClientNeverAsync { get; init; }

    /// <summary>Its place in the loop's list of connects under way (deadline order), while connecting.</summary>
    internal LinkedListNode<SplicedRelay>? ConnectingNode { get; set; }

    /// <summary>Names the relay in the epoll data; freed by the loop after the relay ended.</summary>
    internal GCHandle Handle { get; set; }

    internal bool Ended { get; set; }

    /// <summary>
    /// The socket's entry in the loop's set asks for writability too (see SpliceRelayLoop.WaitWritable): from its
    /// connect, or since a write to it found it full.
    /// </summary>
    internal bool ClientWritableAsked { get; set; }

    /// <inheritdoc cref="ClientWritableAsked"/>
    internal bool WorkerWritableAsked { get; set; }

    /// <summary>Why the loop must end a relay it was given by another thread (set before CommandKind.Fail).</summary>
    internal string? Failure { get; set; }

    /// <summary>The client's descriptor, taken from its managed socket once the worker is connected.</summary>
    internal void Connected(int clientFd)
    {
        PendingClient = null;
        Up.From = clientFd;
        Down.To = clientFd;
    }

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
    /// <summary>Set once more only for the client's side, when a relay the engine connected becomes established.</summary>
    public int From { get; set; } = from;
    public int To { get; set; } = to;

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
