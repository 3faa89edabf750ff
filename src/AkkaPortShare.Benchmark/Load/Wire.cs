using System.Net;
using System.Net.Sockets;
using System.Text;
using AkkaPortShare.Framing;

namespace AkkaPortShare.Benchmark.Load;

/// <summary>A client's framing bytes, built once per scenario and only read afterwards (shared by all connections).</summary>
public sealed class ClientRecords
{
    /// <summary>Duplex preamble, binary session encoding, PreambleEnd: what a NetTcpBinding client sends.</summary>
    public byte[] Preamble { get; }

    /// <summary>One sized envelope (header and payload in one array, so it goes out in one send).</summary>
    public byte[] Envelope { get; }

    public int HeaderSize { get; }
    public int PayloadSize { get; }

    public ClientRecords(string via, int payloadSize)
    {
        Preamble = FramingWriter.Preamble(FramingMode.Duplex, via);
        PayloadSize = payloadSize;
        HeaderSize = FramingWriter.SizedEnvelopeHeaderSize(payloadSize);
        Envelope = new byte[HeaderSize + payloadSize];
        FramingWriter.WriteSizedEnvelopeHeader(Envelope, payloadSize);
        // A payload pattern the echo service sends back unchanged (it answers only "whoami" differently).
        for (var i = 0; i < payloadSize; i++) Envelope[HeaderSize + i] = (byte)('a' + i % 26);
    }
}

/// <summary>A framing fault the server answered instead of PreambleAck (e.g. EndpointNotFound).</summary>
public sealed class FramingFaultException(string faultUri) : Exception($"the server answered fault {faultUri}");

/// <summary>Socket helpers for the load loops: no allocation per byte, every call cancellable.</summary>
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
        while (!buffer.IsEmpty)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0) throw new EndOfStreamException($"the server closed the connection ({buffer.Length} bytes short)");
            buffer = buffer[n..];
        }
    }

    /// <summary>Connects, sends the preamble and waits for PreambleAck: the session is open (routed) afterwards.</summary>
    public static async ValueTask OpenSessionAsync(Socket socket, IPEndPoint endPoint, ClientRecords records,
        byte[] scratch, CancellationToken ct)
    {
        await socket.ConnectAsync(endPoint, ct).ConfigureAwait(false);
        await SendAllAsync(socket, records.Preamble, ct).ConfigureAwait(false);
        await ReadExactlyAsync(socket, scratch.AsMemory(0, 1), ct).ConfigureAwait(false);
        if (scratch[0] == (byte)FramingRecordType.PreambleAck) return;
        if (scratch[0] == (byte)FramingRecordType.Fault) throw new FramingFaultException(await ReadFaultAsync(socket, ct));
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

    // The rare fault path may allocate.
    private static async ValueTask<string> ReadFaultAsync(Socket socket, CancellationToken ct)
    {
        var length = 0;
        var one = new byte[1];
        for (var shift = 0; shift < 35; shift += 7)
        {
            await ReadExactlyAsync(socket, one, ct).ConfigureAwait(false);
            length |= (one[0] & 0x7F) << shift;
            if ((one[0] & 0x80) == 0) break;
        }
        var text = new byte[Math.Min(length, 4096)];
        await ReadExactlyAsync(socket, text, ct).ConfigureAwait(false);
        return Encoding.UTF8.GetString(text);
    }
}

/// <summary>Counts failures of one loop and keeps the first few messages for the report.</summary>
public sealed class ErrorLog
{
    private readonly List<string> _samples = [];
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public IReadOnlyList<string> Samples
    {
        get { lock (_samples) return [.. _samples]; }
    }

    public void Add(Exception e)
    {
        Interlocked.Increment(ref _count);
        lock (_samples)
            if (_samples.Count < 5) _samples.Add($"{e.GetType().Name}: {e.Message}");
    }

    public void Add(string message)
    {
        Interlocked.Increment(ref _count);
        lock (_samples)
            if (_samples.Count < 5) _samples.Add(message);
    }
}
