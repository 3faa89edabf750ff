using System.Buffers;
using System.Net.Sockets;
using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Interop;

/// <summary>
/// Sends a framing fault the way WCF servers do: write the Fault record, half-close, then read and discard what
/// the client still sends (bounded) before closing. Without the drain the client may see a reset instead of the
/// fault and report a less useful exception.
/// </summary>
internal static class FramingFaultSender
{
    /// <param name="drainLimit">What is read and discarded at most (WCF's MaxDrainSize; the router's and the worker's
    /// fault-drain-limit setting).</param>
    /// <param name="timeout">Bound on sending and draining, so a silent client cannot hold the socket (fault-timeout).</param>
    /// <param name="cut">Cancelled to close at once (e.g. too many sockets are draining); the socket is closed
    /// either way when the returned task completes.</param>
    public static async Task SendAndCloseAsync(Socket socket, string faultUri, int drainLimit, TimeSpan timeout,
        CancellationToken cut = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cut);
        cts.CancelAfter(timeout);
        await SendDrainAndCloseAsync(socket, FramingWriter.Fault(faultUri), drainLimit, cts.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Closes a refused connection without a fault (where WCF's server sends none, e.g. an unsecured preamble to a
    /// secured endpoint) the same way: half-close, drain, close, so the client reads the end rather than a reset.
    /// </summary>
    public static async Task DrainAndCloseAsync(Socket socket, int drainLimit, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await SendDrainAndCloseAsync(socket, ReadOnlyMemory<byte>.Empty, drainLimit, cts.Token).ConfigureAwait(false);
    }

    private static async Task SendDrainAndCloseAsync(Socket socket, ReadOnlyMemory<byte> last, int drainLimit, CancellationToken token)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            if (!last.IsEmpty) await socket.SendAsync(last, SocketFlags.None, token).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Send);
            for (var drained = 0; drained < drainLimit;)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, drainLimit - drained)),
                    SocketFlags.None, token).ConfigureAwait(false);
                if (n == 0) break;
                drained += n;
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or was too slow: closing is all that is left to do.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            socket.Dispose();
        }
    }
}
