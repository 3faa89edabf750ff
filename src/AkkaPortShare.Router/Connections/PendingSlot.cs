using System.Net;
using System.Net.Sockets;

namespace AkkaPortShare.Router.Connections;

/// <summary>
/// Shared between the listener and one pending <see cref="ConnectionActor"/>, so the listener can tell a slow
/// client from one the router is merely slow to serve. The connection actor reads with zero-byte reads, so bytes
/// that arrived stay in the socket (where the listener sees them) until the actor takes and decodes them in one
/// step; then it marks the slot if they decide the routing. The listener sheds only connections that are waiting
/// for their client.
/// </summary>
internal sealed class PendingSlot(Socket socket)
{
    private volatile bool _decided;

    /// <summary>The client's address (IPv4-mapped IPv6 as IPv4), for shedding fairly between sources.</summary>
    public IPAddress Source { get; } = SourceOf(socket);

    public bool Decided => _decided;

    public void MarkDecided() => _decided = true;

    /// <summary>
    /// True when the client is what this connection waits for: its preamble is not decided and nothing it sent is
    /// waiting to be read (FIONREAD; it never blocks, and the socket's owner is not disturbed).
    /// </summary>
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

    public bool WaitsForClient()
    {
        if (_decided) return false;
        try
        {
            return socket.Available == 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return true; // closing anyway
        }
    }
}
