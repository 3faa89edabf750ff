using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using AkkaPortShare.Interop;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Where a connection's bytes go: the socket itself, or the secured stream (TLS or NegotiateStream) of a secured session. Every outcome arrives as
/// the task's result or fault (never thrown at the caller), so an actor can pipe it to itself. The plain path is the
/// socket calls it always was, behind one virtual call: no copy, no extra hop.
/// </summary>
internal abstract class ConnectionIo
{
    /// <param name="cancel">Ends a waiting read (OperationCanceledException) without taking any byte from the connection.</param>
    public abstract Task<int> Receive(Memory<byte> buffer, CancellationToken cancel = default);

    /// <summary>Writes every segment, in order (gathered into one write where the transport allows).</summary>
    public abstract Task<int> Send(IList<ArraySegment<byte>> buffers);

    public abstract ValueTask Send(ReadOnlyMemory<byte> bytes);
}

/// <summary>Plain net.tcp: straight to the socket.</summary>
internal sealed class SocketIo(Socket socket) : ConnectionIo
{
    public override Task<int> Receive(Memory<byte> buffer, CancellationToken cancel = default) => SocketTasks.Receive(socket, buffer, cancel);

    public override Task<int> Send(IList<ArraySegment<byte>> buffers) => SocketTasks.Send(socket, buffers);

    // No state machine when the send completes at once (the usual case on the streamed reply path).
    public override ValueTask Send(ReadOnlyMemory<byte> bytes)
    {
        var sending = socket.SendAsync(bytes, SocketFlags.None);
        return sending.IsCompletedSuccessfully ? default : new ValueTask(sending.AsTask());
    }
}

/// <summary>
/// A secured session: through the SslStream or NegotiateStream. Small segments (a record byte, an envelope header) are
/// gathered into one buffer before encryption, so a reply is one or a few TLS records (or NegotiateStream frames)
/// rather than one per segment.
/// </summary>
internal sealed class SecuredIo(Stream ssl) : ConnectionIo
{
    private const int GatherSize = 16 * 1024; // one TLS record's worth of plaintext

    public Stream Stream => ssl;

    public override Task<int> Receive(Memory<byte> buffer, CancellationToken cancel = default)
    {
        try
        {
            return ssl.ReadAsync(buffer, cancel).AsTask();
        }
        catch (Exception e)
        {
            return Task.FromException<int>(e);
        }
    }

    public override Task<int> Send(IList<ArraySegment<byte>> buffers)
    {
        try
        {
            return Gathered(buffers);
        }
        catch (Exception e)
        {
            return Task.FromException<int>(e);
        }
    }

    public override ValueTask Send(ReadOnlyMemory<byte> bytes) => ssl.WriteAsync(bytes);

    private async Task<int> Gathered(IList<ArraySegment<byte>> buffers)
    {
        var gather = ArrayPool<byte>.Shared.Rent(GatherSize);
        try
        {
            int filled = 0, total = 0;
            foreach (var segment in buffers)
            {
                total += segment.Count;
                if (segment.Count >= GatherSize)
                {
                    // Large payloads go as they are, after what was gathered before them.
                    if (filled > 0) await ssl.WriteAsync(gather.AsMemory(0, filled)).ConfigureAwait(false);
                    filled = 0;
                    await ssl.WriteAsync(segment.AsMemory()).ConfigureAwait(false);
                    continue;
                }
                if (filled + segment.Count > GatherSize)
                {
                    await ssl.WriteAsync(gather.AsMemory(0, filled)).ConfigureAwait(false);
                    filled = 0;
                }
                segment.AsSpan().CopyTo(gather.AsSpan(filled));
                filled += segment.Count;
            }
            if (filled > 0) await ssl.WriteAsync(gather.AsMemory(0, filled)).ConfigureAwait(false);
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(gather);
        }
    }
}
