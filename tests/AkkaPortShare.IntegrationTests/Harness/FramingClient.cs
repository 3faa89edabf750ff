using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AkkaPortShare.Framing;

namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>
/// A bare net.tcp framing client (Duplex mode, binary session encoding) for end-to-end tests: it speaks the
/// bytes a WCF client sends, without SOAP, so tests can see exactly what the router and worker answer.
/// Every read is bounded so a broken server fails the test instead of hanging it.
/// </summary>
public sealed class FramingClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly Socket _socket;

    private FramingClient(Socket socket) => _socket = socket;

    public static async Task<FramingClient> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return new FramingClient(socket);
    }

    /// <summary>Sends a preamble; null when the server acknowledged it, else the fault URI it answered with.</summary>
    public async Task<string?> OpenAsync(string via)
    {
        await _socket.SendAsync(FramingWriter.Preamble(FramingMode.Duplex, via), SocketFlags.None);
        var first = await ReadExactAsync(1);
        return first[0] switch
        {
            (byte)FramingRecordType.PreambleAck => null,
            (byte)FramingRecordType.Fault => Encoding.UTF8.GetString(await ReadExactAsync(await ReadMultiByteIntAsync())),
            var other => throw new InvalidDataException($"Expected PreambleAck or Fault, got 0x{other:X2}"),
        };
    }

    public async Task<byte[]> CallAsync(byte[] payload)
    {
        await SendAsync(payload);
        return await ReceiveAsync();
    }

    public async Task<string> CallAsync(string text) =>
        Encoding.UTF8.GetString(await CallAsync(Encoding.UTF8.GetBytes(text)));

    public Task SendAsync(byte[] payload) => SendAsync(payload, CancellationToken.None);

    /// <summary>Sends one sized envelope; a server that stopped reading holds this up until <paramref name="cancel"/>.</summary>
    public async Task SendAsync(byte[] payload, CancellationToken cancel)
    {
        var header = new byte[FramingWriter.MaxSizedEnvelopeHeaderSize];
        var n = FramingWriter.WriteSizedEnvelopeHeader(header, payload.Length);
        await _socket.SendAsync(header.AsMemory(0, n), SocketFlags.None, cancel);
        await _socket.SendAsync(payload, SocketFlags.None, cancel);
    }

    public async Task<byte[]> ReceiveAsync()
    {
        var type = (await ReadExactAsync(1))[0];
        if (type != (byte)FramingRecordType.SizedEnvelope)
            throw new InvalidDataException($"Expected a sized envelope, got record 0x{type:X2}");
        return await ReadExactAsync(await ReadMultiByteIntAsync());
    }

    /// <summary>Sends End and waits for the server's End, as a WCF client's Close() does.</summary>
    public async Task CloseSessionAsync()
    {
        await _socket.SendAsync(FramingWriter.End.ToArray(), SocketFlags.None);
        var reply = (await ReadExactAsync(1))[0];
        if (reply != (byte)FramingRecordType.End) throw new InvalidDataException($"Expected End, got 0x{reply:X2}");
    }

    public Task SendRawAsync(byte[] bytes) => _socket.SendAsync(bytes, SocketFlags.None);

    /// <summary>Reads until the server closes; returns what it sent before closing.</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var all = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            int n;
            try { n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token); }
            catch (SocketException) { return all.ToArray(); }
            if (n == 0) return all.ToArray();
            all.AddRange(buffer.AsSpan(0, n).ToArray());
        }
    }

    private async Task<int> ReadMultiByteIntAsync()
    {
        var bytes = new byte[MultiByteInt.MaxEncodedSize];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (await ReadExactAsync(1))[0];
            if (MultiByteInt.TryRead(bytes.AsSpan(0, i + 1), out var value, out _) == OperationStatus.Done) return value;
        }
        throw new InvalidDataException("Malformed multi-byte integer");
    }

    private async Task<byte[]> ReadExactAsync(int count)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var result = new byte[count];
        for (var read = 0; read < count;)
        {
            var n = await _socket.ReceiveAsync(result.AsMemory(read), SocketFlags.None, cts.Token);
            if (n == 0) throw new EndOfStreamException($"The server closed the connection after {read} of {count} bytes.");
            read += n;
        }
        return result;
    }

    public void Dispose() => _socket.Dispose();
}
