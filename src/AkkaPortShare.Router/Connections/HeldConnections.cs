using System.Collections.Concurrent;
using System.Net.Sockets;
using Akka.Actor;

namespace AkkaPortShare.Router.Connections;

/// <summary>Where an accepted connection the router still holds is.</summary>
internal enum HeldStage
{
    /// <summary>Accepted (or handed back by a worker); the preamble is being read.</summary>
    ReadingPreamble,

    /// <summary>The preamble is in; the registry has been asked who serves the via.</summary>
    WaitingForRegistry,

    /// <summary>Routed to a worker whose hand-over channel has not taken it yet.</summary>
    WaitingForHandover,

    /// <summary>A fault is being sent and the socket drained before it is closed.</summary>
    Draining,
}

/// <summary>
/// The one owner of the fact "this accepted socket is still held by the router, in stage X": every stage reports
/// here, and the listener stops accepting while max-held-connections are held.
/// </summary>
/// <remarks>
/// <para>
/// Why a lock-free ledger and not messages to the listener: a socket passes through four owners (connection actor,
/// registry, a gateway and its sender thread, the fault drains), two of which are not actors; and the accept thread,
/// which must decide whether to accept, runs outside the listener's mailbox. A message per stage change would make
/// the listener's mailbox the bottleneck of every hand-over and still leave the accept thread asking it. Here a
/// stage change is one dictionary write, and the accept thread reads one counter.
/// </para>
/// <para>
/// A socket is held from the moment the listener takes it until the router lets it go: handed to a worker
/// (released after SCM_RIGHTS), closed, or drained and closed. Releasing is idempotent and a socket nobody
/// reported is ignored, so a stage that forgets cannot corrupt the count, and <see cref="ReleaseClosed"/> drops
/// entries whose socket is disposed (a descriptor the router no longer holds, whatever was reported). Relayed
/// connections are sessions, not connections waiting for anything: they leave the ledger and are counted apart
/// (max-relayed-connections), so that long relayed sessions do not stop the router accepting.
/// </para>
/// </remarks>
internal sealed class HeldConnections : IExtension
{
    private readonly ConcurrentDictionary<Socket, HeldStage> _held = new(ReferenceEqualityComparer.Instance);
    private int _count;
    private int _relayed;

    // Looked up once per connection actor: the registered instance first, without WithExtension's reflection.
    public static HeldConnections Get(ActorSystem system) =>
        system.GetExtension<HeldConnections>() ?? system.WithExtension<HeldConnections, HeldConnectionsProvider>();

    /// <summary>Connections held (not relayed), whatever their stage.</summary>
    public int Count => Volatile.Read(ref _count);

    public int Relayed => Volatile.Read(ref _relayed);

    public void Hold(Socket socket, HeldStage stage)
    {
        if (_held.TryAdd(socket, stage)) Interlocked.Increment(ref _count);
    }

    /// <summary>The socket moved on; nothing happens for a socket the ledger does not hold.</summary>
    public void Move(Socket socket, HeldStage stage)
    {
        while (_held.TryGetValue(socket, out var current) && current != stage && !_held.TryUpdate(socket, stage, current)) { }
    }

    /// <summary>
    /// True while the socket is held and its preamble is still being read: the one answer to "is this connection
    /// still pending" (the listener sheds only such connections; every later stage moves the socket on).
    /// </summary>
    public bool IsReadingPreamble(Socket socket) =>
        _held.TryGetValue(socket, out var stage) && stage == HeldStage.ReadingPreamble;

    /// <summary>The router let the socket go (handed over, closed). Idempotent.</summary>
    public void Release(Socket socket)
    {
        if (_held.TryRemove(socket, out _)) Interlocked.Decrement(ref _count);
    }

    /// <summary>
    /// The socket becomes a relayed session: it leaves the held count and counts as relayed, unless
    /// <paramref name="limit"/> relays are running (false: it stays held, for its fault).
    /// </summary>
    public bool TryStartRelay(Socket socket, int limit)
    {
        while (true)
        {
            var relayed = Volatile.Read(ref _relayed);
            if (relayed >= limit) return false;
            if (Interlocked.CompareExchange(ref _relayed, relayed + 1, relayed) == relayed) break;
        }
        Release(socket);
        return true;
    }

    public void EndRelay() => Interlocked.Decrement(ref _relayed);

    /// <summary>
    /// <see cref="TryStartRelay"/> undone: the relay could not start, so its slot is given back and the socket is a
    /// held one again, for its fault (see FaultDrainActor).
    /// </summary>
    public void RelayNotStarted(Socket socket)
    {
        EndRelay();
        Hold(socket, HeldStage.Draining);
    }

    /// <summary>Drops entries whose socket is disposed; returns how many. Walks the ledger: call it rarely.</summary>
    public int ReleaseClosed()
    {
        var released = 0;
        foreach (var socket in _held.Keys)
        {
            if (!IsDisposed(socket)) continue;
            Release(socket);
            released++;
        }
        return released;
    }

    /// <summary>How many are held in each stage (every stage, zeros included), for the held-connections gauge.</summary>
    public IEnumerable<(string Stage, int Count)> CountByStage()
    {
        var counts = new int[Enum.GetValues<HeldStage>().Length];
        foreach (var stage in _held.Values) counts[(int)stage]++;
        return Enum.GetValues<HeldStage>().Select(s => (MetricName(s), counts[(int)s]));
    }

    /// <summary>"12 reading the preamble, 3 waiting for a hand-over", for log lines.</summary>
    public string Describe()
    {
        var byStage = _held.Values.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Count()} {Describe(g.Key)}").ToList();
        return byStage.Count == 0 ? "none" : string.Join(", ", byStage);
    }

    private static string MetricName(HeldStage stage) => stage switch
    {
        HeldStage.ReadingPreamble => "reading_preamble",
        HeldStage.WaitingForRegistry => "waiting_for_registry",
        HeldStage.WaitingForHandover => "waiting_for_handover",
        _ => "draining",
    };

    private static string Describe(HeldStage stage) => stage switch
    {
        HeldStage.ReadingPreamble => "reading the preamble",
        HeldStage.WaitingForRegistry => "waiting for the registry",
        HeldStage.WaitingForHandover => "waiting for a hand-over",
        _ => "draining after a fault",
    };

    private static bool IsDisposed(Socket socket)
    {
        try
        {
            _ = socket.Available; // FIONREAD: never blocks; throws once the socket is disposed
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

internal sealed class HeldConnectionsProvider : ExtensionIdProvider<HeldConnections>
{
    public override HeldConnections CreateExtension(ExtendedActorSystem system) => new();
}
