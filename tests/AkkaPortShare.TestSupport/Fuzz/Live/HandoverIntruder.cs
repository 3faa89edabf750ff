using System.Net;
using System.Net.Sockets;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Interop;

namespace AkkaPortShare.TestSupport.Fuzz.Live;

/// <summary>How an attempt to feed a worker through its hand-over socket ended.</summary>
public enum IntrusionResult
{
    /// <summary>The socket file or its directory let this process not even connect.</summary>
    ConnectRefused,

    /// <summary>Connected and sent, but the worker closed the channel and the passed connection unserved.</summary>
    ClosedUnserved,

    /// <summary>The worker answered the passed connection's preamble: it served a socket from a stranger.</summary>
    Served,

    /// <summary>The passed connection was neither served nor closed within the wait.</summary>
    Undecided,
}

/// <summary>
/// A local process that is not the router posing as it on a worker's hand-over socket: it connects, sends a forged
/// channel token and then a connection of its own with a complete preamble (as the router passes a client), and
/// watches whether the worker serves that connection.
/// </summary>
public static class HandoverIntruder
{
    public static async Task<IntrusionResult> RunAsync(string handoverPath, string via, TimeSpan wait, Action<string> log)
    {
        // Everything is ready before connecting, so both messages go out at once, before the worker can look at us.
        var (server, client) = await LoopbackPairAsync();
        var token = HandoverFrame.WriteToken("forged-token-from-an-intruder");
        var preamble = FramingWriter.Preamble(FramingMode.Duplex, via);
        var frame = new byte[preamble.Length + 1];
        var frameLength = HandoverFrame.Write(frame, preamble);
        WarmUp(token);
        using (client)
        {
            Socket channel;
            try
            {
                channel = UnixHandover.Connect(handoverPath);
            }
            catch (SocketException e)
            {
                server.Dispose();
                log($"intruder: cannot connect to {handoverPath}: {e.SocketErrorCode} ({e.Message})");
                return IntrusionResult.ConnectRefused;
            }

            using (channel)
            {
                try
                {
                    UnixHandover.Send(channel, token);
                    UnixHandover.Send(channel, frame.AsSpan(0, frameLength), server);
                    log($"intruder: connected to {handoverPath} as pid {Environment.ProcessId}, user {UnixHandover.CurrentUserId}, " +
                        "and sent a channel token and a connection with a complete preamble");
                }
                catch (Exception e) when (e is SocketException or IOException)
                {
                    log($"intruder: the worker closed the channel before it could send: {e.Message}");
                }
                finally
                {
                    UnixHandover.ReleaseAfterHandover(server); // from now on only the worker could keep it open
                }
                // The channel stays open meanwhile: a worker that read it late would still find what we sent.
                var result = await WatchAsync(client, wait);
                log($"intruder: {result}");
                return result;
            }
        }
    }

    // The first byte the worker would send on a connection it serves is PreambleAck (0x0B); a close means the last
    // copy, the one in flight to the worker, went away unread.
    private static async Task<IntrusionResult> WatchAsync(Socket client, TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        var buffer = new byte[1];
        try
        {
            return await client.ReceiveAsync(buffer, SocketFlags.None, cts.Token) == 0
                ? IntrusionResult.ClosedUnserved
                : IntrusionResult.Served;
        }
        catch (SocketException)
        {
            return IntrusionResult.ClosedUnserved; // reset
        }
        catch (OperationCanceledException)
        {
            return IntrusionResult.Undecided;
        }
    }

    // Runs connect and send once on a private socket, so the real ones are compiled already and follow the connect
    // within microseconds, not the milliseconds a first JIT takes (in which the worker has long closed the channel).
    private static void WarmUp(byte[] message)
    {
        var path = Path.Combine(Path.GetTempPath(), $"aps-intruder-warmup-{Guid.NewGuid():N}.sock");
        using var listener = UnixHandover.Listen(path);
        using var connected = UnixHandover.Connect(path);
        using var accepted = listener.Accept();
        UnixHandover.Send(connected, message);
        UnixHandover.Receive(accepted, new byte[UnixHandover.MaxMessageSize], out _);
    }

    private static async Task<(Socket Server, Socket Client)> LoopbackPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        return (await listener.AcceptAsync(), client);
    }
}
