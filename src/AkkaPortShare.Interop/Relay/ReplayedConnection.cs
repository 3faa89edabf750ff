using System.Net;
using System.Net.Sockets;
using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Interop.Relay;

/// <summary>
/// A reliable session's connection replayed to the worker that holds the session, at that worker's data endpoint. The
/// client already has a PreambleAck (from the worker that took the connection first), so every byte since its
/// preamble is sent again and the holder's own PreambleAck is taken out of the stream. Used by the router's resumed
/// relay and by a worker that carries a relayed session on.
/// </summary>
internal static class ReplayedConnection
{
    /// <summary>
    /// Connects to <paramref name="endPoint"/>, sends <paramref name="fromPreambleStart"/> and reads the holder's first
    /// byte, all before <paramref name="deadline"/>. Returns the connected socket and, when that byte is not the
    /// PreambleAck (a fault, say), the byte the client must still read. Throws SocketException or
    /// OperationCanceledException, with the socket closed.
    /// </summary>
    public static async Task<(Socket Holder, byte? ForClient)> OpenAsync(EndPoint endPoint, ReadOnlyMemory<byte> fromPreambleStart,
        CancellationToken deadline)
    {
        var holder = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await holder.ConnectAsync(endPoint, deadline).ConfigureAwait(false);
            await holder.SendAsync(fromPreambleStart, SocketFlags.None, deadline).ConfigureAwait(false);
            var first = new byte[1];
            if (await holder.ReceiveAsync(first, SocketFlags.None, deadline).ConfigureAwait(false) == 0)
                throw new SocketException((int)SocketError.ConnectionReset);
            return (holder, first[0] == (byte)FramingRecordType.PreambleAck ? null : first[0]);
        }
        catch
        {
            holder.Dispose();
            throw;
        }
    }

    /// <summary>A data endpoint's host, an address or a name, and port.</summary>
    public static EndPoint EndPointOf(string host, int port) =>
        IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
}
