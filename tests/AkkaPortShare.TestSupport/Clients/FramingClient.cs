using System.Net;
using System.Net.Sockets;
using System.Text;
using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.TestSupport.Clients;

/// <summary>
/// One bare net.tcp framing session for end-to-end tests, on top of <see cref="Wire"/>: it speaks the bytes a WCF
/// client sends, without SOAP, so tests can see exactly what the router and worker answer. Every read is bounded
/// so a broken server fails the test instead of hanging it.
/// </summary>
public sealed class FramingClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly Socket _socket;
    private readonly byte[] _scratch = new byte[1];

    private FramingClient(Socket socket) => _socket = socket;

    public static Task<FramingClient> ConnectAsync(int port) => ConnectAsync(IPAddress.Loopback, port);

    /// <summary>To a router on another (simulated) host.</summary>
    public static async Task<FramingClient> ConnectAsync(IPAddress address, int port)
    {
        var socket = Wire.NewSocket();
        await socket.ConnectAsync(new IPEndPoint(address, port));
        return new FramingClient(socket);
    }

    /// <summary>Sends a preamble; null when the server acknowledged it, else the fault URI it answered with.</summary>
    public async Task<string?> OpenAsync(string via)
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await Wire.SendPreambleAsync(_socket, FramingWriter.Preamble(FramingMode.Duplex, via), _scratch, cts.Token);
            return null;
        }
        catch (FramingFaultException e)
        {
            return e.Fault;
        }
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
    public async Task SendAsync(byte[] payload, CancellationToken cancel) => await Wire.SendEnvelopeAsync(_socket, payload, cancel);

    public async Task<byte[]> ReceiveAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        return await Wire.ReceiveEnvelopeAsync(_socket, cts.Token);
    }

    /// <summary>Sends End and waits for the server's End, as a WCF client's Close() does.</summary>
    public async Task CloseSessionAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await Wire.CloseSessionAsync(_socket, _scratch, cts.Token);
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

    /// <summary>This client's end of the connection (its port names the connection in the worker's log).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public void Dispose() => _socket.Dispose();
}
