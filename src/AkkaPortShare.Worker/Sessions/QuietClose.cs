using System.Buffers;
using System.Net.Sockets;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Closes a refused connection without a fault, the way the client reads best: half-close, then what the client
/// still sends read and discarded (bounded, as after a fault), then close. Closing with unread bytes would reset the
/// connection, and the client would report a TCP error instead of the refused session.
/// </summary>
internal static class QuietClose
{
    public static async Task DrainAndCloseAsync(Socket socket, int drainLimit, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            socket.Shutdown(SocketShutdown.Send);
            for (var drained = 0; drained < drainLimit;)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, drainLimit - drained)),
                    SocketFlags.None, cts.Token).ConfigureAwait(false);
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
