using System.Net;
using System.Net.Sockets;
using AkkaPortShare.Interop;
using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Benchmark.Floor;

/// <summary>
/// The floor of socket hand-over on this machine: the least a router and a worker can do, with no actor, no
/// registry, no bookkeeping, measured with the same churn client as the real paths (the benchmark's floor-direct and floor-handover paths).
/// </summary>
/// <remarks>
/// <para>
/// <b>floor-router</b>: one thread, a blocking accept on a port with TCP_DEFER_ACCEPT (as the router's), one read of
/// what came with the connection, one sendmsg of the socket and those bytes to the floor worker, close. Nothing a
/// hand-over router could leave out.
/// </para>
/// <para>
/// <b>floor-worker</b>: serves the churn client's session (preamble, PreambleAck, echo each sized envelope, End)
/// with plain async sockets, on connections it accepts itself (the floor of "direct") and on connections the floor
/// router passes it (a thread in recvmsg, which serves each one inline up to its first wait). The difference between
/// the two paths is what any hand-over costs here: one more process in series, its wake-up and system calls, and
/// the passing. The real paths' figures are compared to it in the README (Performance).
/// </para>
/// </remarks>
internal static class FloorServers
{
    /// <summary>Runs a floor process when <paramref name="args"/> asks for one (never returns then); else null.</summary>
    public static int? RunIfAsked(string[] args)
    {
        switch (args)
        {
            case ["floor-router", var port, var socketPath]:
                RunRouter(int.Parse(port), socketPath);
                return 0;
            case ["floor-worker", var port, var socketPath]:
                RunWorker(int.Parse(port), socketPath);
                return 0;
            default:
                return null;
        }
    }

    private static void RunRouter(int port, string socketPath)
    {
        using var channel = UnixHandover.Connect(socketPath);
        using var listener = Listen(port);
        TcpDeferAccept.Set(listener, TimeSpan.FromSeconds(1));
        Console.WriteLine($"floor-router listening on {port}");
        var buffer = new byte[UnixHandover.MaxMessageSize];
        while (true)
        {
            var socket = listener.Accept();
            try
            {
                socket.NoDelay = true;
                var read = socket.Receive(buffer);
                if (read > 0) UnixHandover.Send(channel, buffer.AsSpan(0, read), socket);
            }
            catch (SocketException)
            {
                // that client is gone; so is its connection
            }
            socket.Dispose(); // the worker has its own descriptor now
        }
    }

    private static void RunWorker(int port, string socketPath)
    {
        using var handoverListener = UnixHandover.Listen(socketPath);
        using var listener = Listen(port);
        Console.WriteLine($"floor-worker listening on {port} and {socketPath}");
        _ = AcceptAsync(listener);
        while (true)
        {
            var channel = handoverListener.Accept();
            new Thread(() => ReceivePassed(channel)) { IsBackground = true, Name = "floor-handover" }.Start();
        }
    }

    private static async Task AcceptAsync(Socket listener)
    {
        while (true)
        {
            var socket = await listener.AcceptAsync().ConfigureAwait(false);
            socket.NoDelay = true;
            _ = ServeAsync(socket, new byte[4096], 0);
        }
    }

    private static void ReceivePassed(Socket channel)
    {
        var buffer = new byte[UnixHandover.MaxMessageSize];
        while (true)
        {
            var length = UnixHandover.Receive(channel, buffer, out var socket);
            if (length == 0) return;
            if (socket is null) continue;
            var alreadyRead = new byte[4096];
            buffer.AsSpan(0, length).CopyTo(alreadyRead);
            _ = ServeAsync(socket, alreadyRead, length);
        }
    }

    // The churn client's session, and nothing else: a bad byte closes the connection. buffer: 4 KiB, its first
    // count bytes already read.
    private static async Task ServeAsync(Socket socket, byte[] buffer, int count)
    {
        using var _ = socket;
        try
        {
            var offset = 0;
            var preamble = new PreambleDecoder();
            while (!preamble.IsFinished)
            {
                if (offset == count && (count = await ReceiveAsync(socket, buffer, offset = 0)) == 0) return;
                offset += preamble.Decode(buffer.AsSpan(offset, count - offset));
            }
            if (preamble.Stage != PreambleStage.Complete) return;
            await socket.SendAsync(FramingWriter.PreambleAck.ToArray(), SocketFlags.None).ConfigureAwait(false);

            var session = new SessionDecoder(preamble.Mode);
            var reply = new byte[4096];
            var replied = 0;
            while (true)
            {
                var next = session.Decode(buffer.AsSpan(offset, count - offset), out var consumed);
                switch (next.Kind)
                {
                    case SessionEventKind.NeedMoreData:
                        if ((count = await ReceiveAsync(socket, buffer, offset = 0)) == 0) return;
                        continue;
                    case SessionEventKind.EnvelopeStart:
                        replied = FramingWriter.WriteSizedEnvelopeHeader(reply, next.Size);
                        break;
                    case SessionEventKind.EnvelopeData:
                        buffer.AsSpan(offset + next.DataOffset, next.DataLength).CopyTo(reply.AsSpan(replied));
                        replied += next.DataLength;
                        break;
                    case SessionEventKind.EnvelopeEnd:
                        await socket.SendAsync(reply.AsMemory(0, replied), SocketFlags.None).ConfigureAwait(false);
                        break;
                    case SessionEventKind.End:
                        await socket.SendAsync(FramingWriter.End.ToArray(), SocketFlags.None).ConfigureAwait(false);
                        return;
                    default:
                        return;
                }
                offset += consumed;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or ArgumentException)
        {
            // the client went away, or sent more than the floor serves (an envelope over 4 KiB)
        }
    }

    private static async Task<int> ReceiveAsync(Socket socket, byte[] buffer, int offset) =>
        await socket.ReceiveAsync(buffer.AsMemory(offset), SocketFlags.None).ConfigureAwait(false);

    private static Socket Listen(int port)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        listener.Listen(1024);
        return listener;
    }
}
