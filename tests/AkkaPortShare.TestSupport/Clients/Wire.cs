using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.TestSupport.Clients;

/// <summary>
/// The client side of net.tcp framing (Duplex mode, binary session encoding), the one implementation the tests,
/// the benchmark and the fuzzer share. The session calls (open, echo, close) allocate nothing per call: the
/// caller brings the records (<see cref="ClientRecords"/>) and a scratch buffer, so load loops stay cheap. The
/// helpers that return what the server sent (faults, envelopes of unknown size) allocate; they are off the hot path.
/// Every call is cancellable; callers bound it with a timeout.
/// </summary>
public static class Wire
{
    public static readonly byte[] End = [(byte)FramingRecordType.End];

    public static Socket NewSocket() =>
        new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };

    public static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            var n = await socket.SendAsync(data, SocketFlags.None, ct).ConfigureAwait(false);
            data = data[n..];
        }
    }

    public static async ValueTask ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken ct)
    {
        var wanted = buffer.Length;
        while (!buffer.IsEmpty)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
                throw new EndOfStreamException(
                    $"the server closed the connection after {wanted - buffer.Length} of {wanted} bytes");
            buffer = buffer[n..];
        }
    }

    /// <summary>Connects, sends the preamble and waits for PreambleAck: the session is open (routed) afterwards.</summary>
    public static async ValueTask OpenSessionAsync(Socket socket, IPEndPoint endPoint, ClientRecords records,
        byte[] scratch, CancellationToken ct)
    {
        await socket.ConnectAsync(endPoint, ct).ConfigureAwait(false);
        await SendPreambleAsync(socket, records.Preamble, scratch, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a preamble on a connected socket and waits for PreambleAck; throws <see cref="FramingFaultException"/>
    /// when the server answers with a fault instead.
    /// </summary>
    public static async ValueTask SendPreambleAsync(Socket socket, ReadOnlyMemory<byte> preamble, byte[] scratch,
        CancellationToken ct)
    {
        await SendAllAsync(socket, preamble, ct).ConfigureAwait(false);
        await ReadExactlyAsync(socket, scratch.AsMemory(0, 1), ct).ConfigureAwait(false);
        if (scratch[0] == (byte)FramingRecordType.PreambleAck) return;
        if (scratch[0] == (byte)FramingRecordType.Fault) throw new FramingFaultException(await ReadFaultAsync(socket, ct).ConfigureAwait(false));
        throw new InvalidDataException($"expected PreambleAck, got record 0x{scratch[0]:X2}");
    }

    /// <summary>Sends the envelope and checks that exactly the same record comes back.</summary>
    public static async ValueTask EchoAsync(Socket socket, ClientRecords records, byte[] scratch, CancellationToken ct)
    {
        await SendAllAsync(socket, records.Envelope, ct).ConfigureAwait(false);
        await ReadExactlyAsync(socket, scratch.AsMemory(0, records.Envelope.Length), ct).ConfigureAwait(false);
        if (!scratch.AsSpan(0, records.Envelope.Length).SequenceEqual(records.Envelope))
            throw new InvalidDataException("the echoed envelope differs from the one sent");
    }

    /// <summary>Sends End and waits for the server's End, as a WCF client's Close() does.</summary>
    public static async ValueTask CloseSessionAsync(Socket socket, byte[] scratch, CancellationToken ct)
    {
        await SendAllAsync(socket, End, ct).ConfigureAwait(false);
        await ReadExactlyAsync(socket, scratch.AsMemory(0, 1), ct).ConfigureAwait(false);
        if (scratch[0] != (byte)FramingRecordType.End)
            throw new InvalidDataException($"expected End, got record 0x{scratch[0]:X2}");
    }

    /// <summary>Sends one sized envelope of any payload (header and payload in one send).</summary>
    public static async ValueTask SendEnvelopeAsync(Socket socket, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var size = FramingWriter.SizedEnvelopeHeaderSize(payload.Length) + payload.Length;
        var record = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var n = FramingWriter.WriteSizedEnvelopeHeader(record, payload.Length);
            payload.Span.CopyTo(record.AsSpan(n));
            await SendAllAsync(socket, record.AsMemory(0, size), ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(record);
        }
    }

    /// <summary>Reads one sized envelope and returns its payload (allocates: the size is the server's).</summary>
    public static async ValueTask<byte[]> ReceiveEnvelopeAsync(Socket socket, CancellationToken ct)
    {
        var type = new byte[1];
        await ReadExactlyAsync(socket, type, ct).ConfigureAwait(false);
        if (type[0] != (byte)FramingRecordType.SizedEnvelope)
            throw new InvalidDataException($"expected a sized envelope, got record 0x{type[0]:X2}");
        var payload = new byte[await ReadMultiByteIntAsync(socket, ct).ConfigureAwait(false)];
        await ReadExactlyAsync(socket, payload, ct).ConfigureAwait(false);
        return payload;
    }

    /// <summary>Reads a record's multi-byte length; a malformed one is <see cref="InvalidDataException"/>.</summary>
    public static async ValueTask<int> ReadMultiByteIntAsync(Socket socket, CancellationToken ct)
    {
        var bytes = new byte[MultiByteInt.MaxEncodedSize];
        for (var i = 0; i < bytes.Length; i++)
        {
            await ReadExactlyAsync(socket, bytes.AsMemory(i, 1), ct).ConfigureAwait(false);
            if (MultiByteInt.TryRead(bytes.AsSpan(0, i + 1), out var value, out _) == OperationStatus.Done) return value;
        }
        throw new InvalidDataException("malformed multi-byte integer");
    }

    // The rare fault path may allocate; a fault URI longer than 4 KiB is cut (no server sends one).
    private static async ValueTask<string> ReadFaultAsync(Socket socket, CancellationToken ct)
    {
        var length = await ReadMultiByteIntAsync(socket, ct).ConfigureAwait(false);
        var text = new byte[Math.Min(length, 4096)];
        await ReadExactlyAsync(socket, text, ct).ConfigureAwait(false);
        return Encoding.UTF8.GetString(text);
    }
}
