using System.Net.Sockets;
using Akka.Event;
using AkkaPortShare.Router.Connections;

namespace AkkaPortShare.Router.Listening;

/// <summary>
/// Connections whose preamble had not all arrived when they were accepted wait for it here, for at most
/// preamble-wait and without an actor: one zero-byte read each on the runtime's own epoll thread (no thread of
/// ours, nothing blocks the accept loop). When the bytes that arrive decide a gateway in the published routes the
/// connection is handed over from here (<see cref="DirectHandover.TryHandOver"/>); anything else (still incomplete
/// when the wait ends, a bad preamble, an unknown via, relay, the end of the stream, an error) goes on to a
/// connection actor with what was read, exactly as a connection the accept loop could not decide.
/// </summary>
/// <remarks>
/// <para>
/// Bounded in number (<see cref="BoundFor"/>, and none once the listener's pending connections and these reach
/// max-pending-connections: then the listener sheds as before; more go to connection actors at once) and in
/// time: every wait takes the cancellation token of the current generation, and a timer cancels the older of two
/// generations every half preamble-wait, so each wait ends within (preamble-wait / 2, preamble-wait]. One token
/// per generation, not a timer per connection. The connections stay held (stage ReadingPreamble) meanwhile, so
/// max-held-connections counts them as before; receive-timeout counts from the accept (the connection actor is
/// given the time already waited).
/// </para>
/// <para>
/// Why not the connection actor: at concurrency 1 a client's preamble usually arrives just after its accept, and
/// the actor's way (a message to the listener, an actor created, a piped read result) is three dispatcher hops
/// per connection before the hand-over; here it is one thread-pool continuation.
/// </para>
/// </remarks>
internal sealed class PreambleWaits : IDisposable
{
    private readonly DirectHandover _direct;
    private readonly Action<Socket, PreambleRead, long> _toListener;
    private readonly ILoggingAdapter _log;
    private readonly int _bound;
    private readonly int _maxPending;
    private readonly Lock _lock = new();
    private readonly Timer? _generations;
    private CancellationTokenSource _older = new();
    private CancellationTokenSource _newer = new();
    private int _waiting;
    private int _listenerPending; // what the listener last counted (at most), see ListenerPending
    private volatile bool _stopped;

    /// <param name="toListener">Takes a connection the wait could not hand over, with its accept's timestamp.</param>
    /// <param name="maxPending">max-pending-connections: no connection waits here once the listener's pending ones
    /// and these reach it, so what silent clients hold stays within the bound the listener enforces.</param>
    public PreambleWaits(TimeSpan wait, int bound, int maxPending, DirectHandover direct, Action<Socket, PreambleRead, long> toListener,
        ILoggingAdapter log)
    {
        _maxPending = maxPending;
        _direct = direct;
        _toListener = toListener;
        _log = log;
        _bound = bound;
        if (wait <= TimeSpan.Zero) return; // off: TryTake takes nothing
        var half = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, wait.Ticks / 2));
        _generations = new Timer(_ => NextGeneration(), null, half, half);
    }

    /// <summary>
    /// A quarter of max-pending-connections (at least 1): the listener sheds only its own pending connections (the
    /// ones here leave within preamble-wait, oldest first, and are shed there if need be), so what the router holds
    /// for clients that send nothing stays within max-pending-connections plus this.
    /// </summary>
    public static int BoundFor(int maxPendingConnections) => maxPendingConnections < 4 ? 1 : maxPendingConnections / 4;

    /// <summary>How many connections wait here now.</summary>
    public int Count => Volatile.Read(ref _waiting);

    /// <summary>
    /// Takes a just-accepted socket whose preamble is not decided yet (true: it is no longer the caller's), or
    /// leaves it to the caller (false: waits are off, stopped, or at their bound).
    /// </summary>
    public bool TryTake(Socket socket, PreambleRead preamble, long acceptedAt)
    {
        if (_generations is null || _stopped || preamble.Decided) return false;
        if (Volatile.Read(ref _listenerPending) + Count >= _maxPending) return false; // at the bound: the listener sheds
        if (Interlocked.Increment(ref _waiting) > _bound)
        {
            Interlocked.Decrement(ref _waiting);
            return false;
        }
        CancellationToken token;
        lock (_lock) token = _newer.Token;
        _ = WaitAsync(socket, preamble, acceptedAt, token);
        return true;
    }

    private async Task WaitAsync(Socket socket, PreambleRead preamble, long acceptedAt, CancellationToken token)
    {
        // It stops counting as waiting before it goes on, so whoever it goes to never sees it counted twice.
        var counted = true;
        try
        {
            while (await Readable(socket, token).ConfigureAwait(false) && preamble.TakeWhatArrived(socket))
            {
                if (!preamble.Decided) continue; // part of it: wait for the rest, within the same generation
                Leave(ref counted);
                if (_direct.TryHandOver(socket, preamble, acceptedAt)) return;
                break; // decided, but not for a gateway here: the connection actor answers it
            }
        }
        catch (Exception e)
        {
            // A bug, not the client's doing: that connection is lost, never the waits.
            _log.Error(e, "Waiting for a connection's preamble failed; closing it");
            Leave(ref counted);
            preamble.Return();
            _direct.Abandon(socket);
            return;
        }
        Leave(ref counted);
        if (_stopped)
        {
            preamble.Return();
            _direct.Abandon(socket);
            return;
        }
        _toListener(socket, preamble, acceptedAt);
    }

    private void Leave(ref bool counted)
    {
        if (!counted) return;
        counted = false;
        Interlocked.Decrement(ref _waiting);
    }

    // A zero-byte read: completes when bytes (or the end of the stream) wait, and takes none of them. False when
    // the wait ended (cancelled) or the socket failed: the connection actor meets the error again and closes.
    private static async ValueTask<bool> Readable(Socket socket, CancellationToken token)
    {
        try
        {
            await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    private void NextGeneration()
    {
        // Nothing waits: no token in use to end (a wait counts itself before it takes one), so nothing to allocate.
        if (Count == 0) return;
        CancellationTokenSource ending;
        lock (_lock)
        {
            ending = _older;
            _older = _newer;
            _newer = new CancellationTokenSource();
        }
        // Not disposed: a wait may still be about to register with its token; with no timer or wait handle, a
        // cancellation source holds nothing the collector does not free.
        ending.Cancel();
    }

    /// <summary>Listener: how many pending connections it holds (at most), after each change.</summary>
    public void ListenerPending(int count) => Volatile.Write(ref _listenerPending, count);

    /// <summary>Listener, at max-pending-connections: every wait ends now and its connection goes to the listener.</summary>
    public void ReleaseAll()
    {
        CancellationTokenSource older, newer;
        lock (_lock)
        {
            (older, newer) = (_older, _newer);
            (_older, _newer) = (new CancellationTokenSource(), new CancellationTokenSource());
        }
        older.Cancel();
        newer.Cancel();
    }

    /// <summary>The listener stops: every wait ends now and closes its connection instead of passing it on.</summary>
    public void Dispose()
    {
        _stopped = true;
        _generations?.Dispose();
        lock (_lock)
        {
            _older.Cancel();
            _newer.Cancel();
        }
    }
}
