using System.Buffers;
using System.Net.Sockets;

namespace AkkaPortShare.Interop.Relay;

/// <summary>
/// The copying relay: copies bytes both ways between two connected sockets until both directions end. The router's
/// fallback where the splice engine is unavailable (a client and a worker's own listener), and how a worker carries a
/// reliable session's relayed connection to the worker that holds the session.
/// </summary>
internal static class SocketRelay
{
    public readonly record struct Result(long ToWorker, long ToClient, Exception? Error);

    public static async Task<Result> RunAsync(Socket client, Socket worker, int bufferSize)
    {
        try
        {
            var up = CopyAsync(client, worker, bufferSize);
            var down = CopyAsync(worker, client, bufferSize);
            var first = await Task.WhenAny(up, down).ConfigureAwait(false);
            if (first.Result.Error is not null)
            {
                // One side failed: the other copy would wait forever on a peer that will never finish.
                client.Dispose();
                worker.Dispose();
            }
            var (toWorker, upError) = await up.ConfigureAwait(false);
            var (toClient, downError) = await down.ConfigureAwait(false);
            return new Result(toWorker, toClient, upError ?? downError);
        }
        finally
        {
            client.Dispose();
            worker.Dispose();
        }
    }

    // One direction, YARP StreamCopier style: a pooled buffer, a half-close when the source ends.
    private static async Task<(long Bytes, Exception? Error)> CopyAsync(Socket from, Socket to, int bufferSize)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        long total = 0;
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer.AsMemory(0, bufferSize), SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return (total, null);
                }
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None).ConfigureAwait(false);
                total += n;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return (total, e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
