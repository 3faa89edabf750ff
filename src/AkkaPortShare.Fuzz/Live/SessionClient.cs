using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using AkkaPortShare.Framing;

namespace AkkaPortShare.Fuzz.Live;

/// <summary>The server answered a preamble with a framing fault instead of PreambleAck.</summary>
public sealed class FaultReceivedException(string fault) : Exception($"the server answered with fault {fault}")
{
    public string Fault { get; } = fault;

    /// <summary>The fault's last segment, e.g. EndpointNotFound.</summary>
    public string Name => Fault[(Fault.LastIndexOf('/') + 1)..];
}

/// <summary>
/// The legitimate client: a whole net.tcp session as a WCF client runs it (preamble, PreambleAck, one message
/// echoed back, End answered with End). Every read is bounded; a session that is not served in time throws.
/// </summary>
public static class SessionClient
{
    public readonly record struct Timing(TimeSpan ToAck, TimeSpan Total);

    public static async Task<Timing> RunAsync(LoopbackClients clients, string via, string message, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var clock = Stopwatch.StartNew();
        using var socket = await clients.ConnectAsync(cts.Token).ConfigureAwait(false);
        await socket.SendAsync(FramingWriter.Preamble(FramingMode.Duplex, via), SocketFlags.None, cts.Token).ConfigureAwait(false);
        await ExpectAckAsync(socket, cts.Token).ConfigureAwait(false);
        var toAck = clock.Elapsed;

        var payload = Encoding.UTF8.GetBytes(message);
        var header = new byte[FramingWriter.MaxSizedEnvelopeHeaderSize];
        var n = FramingWriter.WriteSizedEnvelopeHeader(header, payload.Length);
        await socket.SendAsync((byte[])[.. header.AsSpan(0, n), .. payload], SocketFlags.None, cts.Token).ConfigureAwait(false);
        var type = await ReadAsync(socket, 1, cts.Token).ConfigureAwait(false);
        if (type[0] != (byte)FramingRecordType.SizedEnvelope) throw new InvalidDataException($"expected a sized envelope, got 0x{type[0]:X2}");
        var size = await ReadMultiByteIntAsync(socket, cts.Token).ConfigureAwait(false);
        var echo = Encoding.UTF8.GetString(await ReadAsync(socket, size, cts.Token).ConfigureAwait(false));
        if (echo != message) throw new InvalidDataException($"sent \"{message}\", got back \"{echo}\"");

        await socket.SendAsync(FramingWriter.End.ToArray(), SocketFlags.None, cts.Token).ConfigureAwait(false);
        var end = await ReadAsync(socket, 1, cts.Token).ConfigureAwait(false);
        if (end[0] != (byte)FramingRecordType.End) throw new InvalidDataException($"expected End, got 0x{end[0]:X2}");
        return new Timing(toAck, clock.Elapsed);
    }

    /// <summary>Connect → PreambleAck only (the latency the slow-client test reports), then End/End and close.</summary>
    public static async Task<TimeSpan> TimeToAckAsync(LoopbackClients clients, string via, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var clock = Stopwatch.StartNew();
        using var socket = await clients.ConnectAsync(cts.Token).ConfigureAwait(false);
        await socket.SendAsync(FramingWriter.Preamble(FramingMode.Duplex, via), SocketFlags.None, cts.Token).ConfigureAwait(false);
        await ExpectAckAsync(socket, cts.Token).ConfigureAwait(false);
        var toAck = clock.Elapsed;
        await socket.SendAsync(FramingWriter.End.ToArray(), SocketFlags.None, cts.Token).ConfigureAwait(false);
        await ReadAsync(socket, 1, cts.Token).ConfigureAwait(false);
        return toAck;
    }

    /// <summary>
    /// <see cref="TimeToAckAsync"/> with blocking calls, for a client on its own thread: nothing it does waits for
    /// the thread pool, so a busy client process (say, one that also runs an attack) does not make it look slow.
    /// </summary>
    public static TimeSpan TimeToAck(LoopbackClients clients, string via, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var socket = clients.Connect(timeout);
        socket.SendTimeout = socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        socket.Send(FramingWriter.Preamble(FramingMode.Duplex, via));
        var first = new byte[1];
        if (socket.Receive(first) == 0) throw new EndOfStreamException("the server closed before PreambleAck");
        var toAck = clock.Elapsed;
        if (first[0] != (byte)FramingRecordType.PreambleAck) throw new InvalidDataException($"expected PreambleAck, got 0x{first[0]:X2}");
        socket.Send(FramingWriter.End);
        if (socket.Receive(first) == 0) throw new EndOfStreamException("the server closed before End");
        return toAck;
    }

    private static async Task ExpectAckAsync(Socket socket, CancellationToken cancellation)
    {
        var first = await ReadAsync(socket, 1, cancellation).ConfigureAwait(false);
        if (first[0] == (byte)FramingRecordType.PreambleAck) return;
        if (first[0] != (byte)FramingRecordType.Fault) throw new InvalidDataException($"expected PreambleAck, got 0x{first[0]:X2}");
        var length = await ReadMultiByteIntAsync(socket, cancellation).ConfigureAwait(false);
        throw new FaultReceivedException(Encoding.UTF8.GetString(await ReadAsync(socket, length, cancellation).ConfigureAwait(false)));
    }

    private static async Task<byte[]> ReadAsync(Socket socket, int count, CancellationToken cancellation)
    {
        var buffer = new byte[count];
        for (var filled = 0; filled < count;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellation).ConfigureAwait(false);
            if (n == 0) throw new EndOfStreamException($"the server closed after {filled} of {count} bytes");
            filled += n;
        }
        return buffer;
    }

    private static async Task<int> ReadMultiByteIntAsync(Socket socket, CancellationToken cancellation)
    {
        var bytes = new byte[MultiByteInt.MaxEncodedSize];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (await ReadAsync(socket, 1, cancellation).ConfigureAwait(false))[0];
            if (MultiByteInt.TryRead(bytes.AsSpan(0, i + 1), out var value, out _) == OperationStatus.Done) return value;
        }
        throw new InvalidDataException("malformed multi-byte integer");
    }
}
