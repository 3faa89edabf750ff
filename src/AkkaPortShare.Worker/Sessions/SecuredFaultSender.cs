using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// A framing fault inside a secured session (TLS or NegotiateStream), sent as WCF's server sends one (see FramingFaultSender for the plain
/// socket): the Fault record through the secured stream, then what the client still sends read and discarded (bounded),
/// then the connection closed.
/// </summary>
internal static class SecuredFaultSender
{
    public static async Task SendAndCloseAsync(Stream ssl, Socket socket, string faultUri, int drainLimit, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            await ssl.WriteAsync(FramingWriter.Fault(faultUri), cts.Token).ConfigureAwait(false);
            await ssl.FlushAsync(cts.Token).ConfigureAwait(false);
            for (var drained = 0; drained < drainLimit;)
            {
                var n = await ssl.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, drainLimit - drained)), cts.Token)
                    .ConfigureAwait(false);
                if (n == 0) break;
                drained += n;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException
                                      or System.Security.Authentication.AuthenticationException)
        {
            // The client went away or was too slow: closing is all that is left to do.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await ssl.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
        }
    }
}
