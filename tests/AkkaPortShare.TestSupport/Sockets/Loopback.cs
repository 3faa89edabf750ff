using System.Net;
using System.Net.Sockets;

namespace AkkaPortShare.TestSupport.Sockets;

/// <summary>How a peer's byte stream ended.</summary>
public enum StreamEnd { Eof, Reset }

public sealed record ReadToEndResult(byte[] Bytes, StreamEnd End);

/// <summary>
/// Real loopback TCP sockets for specs of actors that own a socket. Every read is bounded by
/// <see cref="IoTimeout"/>, so a missing close fails the test instead of hanging it.
/// </summary>
public static class Loopback
{
    public static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A connected pair: Server is what an accept loop would hand the actor, Client is the test's end.</summary>
    public static async Task<(Socket Server, Socket Client)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = new CancellationTokenSource(IoTimeout);
        var accepting = listener.AcceptAsync(cts.Token).AsTask();
        await client.ConnectAsync(listener.LocalEndPoint!, cts.Token);
        var server = await accepting;
        server.NoDelay = true;
        return (server, client);
    }

    public static async Task SendAsync(Socket socket, ReadOnlyMemory<byte> bytes)
    {
        using var cts = new CancellationTokenSource(IoTimeout);
        while (!bytes.IsEmpty)
        {
            var n = await socket.SendAsync(bytes, SocketFlags.None, cts.Token);
            bytes = bytes[n..];
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes; fails on EOF or timeout.</summary>
    public static async Task<byte[]> ReadExactlyAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        using var cts = new CancellationTokenSource(IoTimeout);
        var filled = 0;
        while (filled < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cts.Token);
            if (n == 0)
                throw new EndOfStreamException(
                    $"EOF after {filled} of {count} expected bytes: [{Convert.ToHexString(buffer, 0, filled)}]");
            filled += n;
        }
        return buffer;
    }

    /// <summary>Reads until the peer closes (FIN or RST); fails when it does not close within the timeout.</summary>
    public static async Task<ReadToEndResult> ReadToEndAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(IoTimeout);
        using var all = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n == 0) return new ReadToEndResult(all.ToArray(), StreamEnd.Eof);
                all.Write(buffer, 0, n);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return new ReadToEndResult(all.ToArray(), StreamEnd.Reset);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException(
                $"The peer did not close within {IoTimeout}; read so far: [{Convert.ToHexString(all.ToArray())}]");
        }
    }

    /// <summary>True when the peer has neither sent anything nor closed (a readable socket with no data is at EOF).</summary>
    public static bool IsOpenAndSilent(Socket socket) => !socket.Poll(0, SelectMode.SelectRead);

    public static void DisposeQuietly(this Socket? socket)
    {
        try { socket?.Dispose(); } catch { /* already gone */ }
    }
}
