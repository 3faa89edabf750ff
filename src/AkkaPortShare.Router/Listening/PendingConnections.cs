using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using AkkaPortShare.Router.Connections;

namespace AkkaPortShare.Router.Listening;

/// <summary>
/// The listener's connections that count against max-pending-connections, oldest accept first, with how many each source
/// address holds. Whether one is still pending is not recorded here: the <see cref="HeldConnections"/> ledger says
/// it (stage ReadingPreamble), and every stage that takes a socket on moves it there. Entries that moved on are
/// dropped when the count matters (at the bound, or when asked), so a connection that is routed costs the listener
/// no message and no bookkeeping.
/// </summary>
/// <remarks>
/// Mutable on purpose: it changes once per accepted connection, and an immutable queue and dictionary would
/// allocate several objects per connection on the hand-over's hot path. It lives in the listener's one state
/// record and is touched by the listener only. Its size stays within max-pending-connections: the listener
/// sheds (or drops the ones that moved on) before adding at the bound.
/// </remarks>
internal sealed class PendingConnections(HeldConnections held)
{
    private readonly record struct Entry(Socket Socket, IActorRef Connection, IPAddress Source, long AcceptedAt);

    private readonly LinkedList<Entry> _order = new();
    private readonly Dictionary<IPAddress, int> _bySource = new();

    /// <param name="acceptedAt">Its accept (Stopwatch timestamp): the order of shedding. A connection that waited for
    /// its preamble outside the listener (PreambleWaits) arrives after newer ones and goes in before them; nearly
    /// every other one is the newest, so this is an append.</param>
    public void Add(Socket socket, IActorRef connection, long acceptedAt)
    {
        var source = SourceOf(socket);
        var entry = new Entry(socket, connection, source, acceptedAt);
        var after = _order.Last;
        while (after is not null && after.Value.AcceptedAt > acceptedAt) after = after.Previous;
        if (after is null) _order.AddFirst(entry);
        else _order.AddAfter(after, entry);
        _bySource[source] = _bySource.GetValueOrDefault(source) + 1;
    }

    /// <summary>An upper bound of <see cref="Count"/> without the walk (it still counts the ones that moved on).</summary>
    public int CountAtMost => _order.Count;

    /// <summary>How many are still pending (those that moved on are dropped first).</summary>
    public int Count()
    {
        DropTheOnesThatMovedOn();
        return _order.Count;
    }

    /// <summary>
    /// True when <paramref name="bound"/> connections are still pending. The ledger is read only once the entries
    /// reach the bound, so on the hot path (routed connections, few pending) the walk costs nothing per connection
    /// but once per bound's worth of them.
    /// </summary>
    public bool IsFull(int bound) => _order.Count >= bound && Count() >= bound;

    /// <summary>
    /// Takes out the connection to shed: from the source address with the most pending connections, the oldest of
    /// them that waits for its client (one whose bytes merely wait for a busy router to read them is passed over,
    /// unless every one of them does). Call it only when <see cref="IsFull"/> (so never empty).
    /// </summary>
    public IActorRef TakeVictim()
    {
        var busiest = _bySource.MaxBy(s => s.Value).Key;
        LinkedListNode<Entry>? victim = null;
        for (var node = _order.First; node is not null; node = node.Next)
        {
            if (!node.Value.Source.Equals(busiest)) continue;
            victim ??= node;
            if (!WaitsForClient(node.Value.Socket)) continue;
            victim = node;
            break;
        }
        victim ??= _order.First!;
        Remove(victim);
        return victim.Value.Connection;
    }

    private void DropTheOnesThatMovedOn()
    {
        for (var node = _order.First; node is not null;)
        {
            var next = node.Next;
            if (!held.IsReadingPreamble(node.Value.Socket)) Remove(node);
            node = next;
        }
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _order.Remove(node);
        var source = node.Value.Source;
        if (_bySource[source] == 1) _bySource.Remove(source);
        else _bySource[source]--;
    }

    // Nothing the client sent waits to be read (FIONREAD: it never blocks, and the connection actor is not
    // disturbed). The connection actor reads with zero-byte reads, so bytes that arrived stay in the socket until
    // it takes and decodes them in one step: a router too busy to get to them does not take them for silence.
    private static bool WaitsForClient(Socket socket)
    {
        try
        {
            return socket.Available == 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return true; // closing anyway
        }
    }

    /// <summary>The client's address (IPv4-mapped IPv6 as IPv4), for shedding fairly between sources.</summary>
    private static IPAddress SourceOf(Socket socket)
    {
        try
        {
            var address = ((IPEndPoint)socket.RemoteEndPoint!).Address;
            return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or NullReferenceException)
        {
            return IPAddress.None;
        }
    }
}
