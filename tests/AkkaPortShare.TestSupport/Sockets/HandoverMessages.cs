using System.Net.Sockets;
using AkkaPortShare.Interop;

namespace AkkaPortShare.TestSupport.Sockets;

/// <summary>Reading what the other end of a hand-over channel sent, as a spec playing router or worker does.</summary>
public static class HandoverMessages
{
    /// <summary>
    /// A connected hand-over channel on a socket file in <paramref name="directory"/>: the router's end and the
    /// worker's (the caller disposes both; the listener is gone once they are connected).
    /// </summary>
    public static (Socket Router, Socket Worker) OpenChannel(string directory)
    {
        var path = Path.Combine(directory, $"{Guid.NewGuid():N}.sock");
        using var listener = UnixHandover.Listen(path);
        var router = UnixHandover.Connect(path);
        return (router, listener.Accept());
    }

    /// <summary>
    /// One message and the socket it passed (null if none), within <see cref="Loopback.IoTimeout"/>. The receive
    /// blocks, so it runs on its own thread, not on a pool thread the actors under test need.
    /// </summary>
    public static async Task<(byte[] Payload, Socket? Passed)> ReceiveAsync(Socket channel)
    {
        var buffer = new byte[UnixHandover.MaxMessageSize];
        using var cts = new CancellationTokenSource(Loopback.IoTimeout);
        var (length, passed) = await Task.Factory.StartNew(() =>
        {
            var n = UnixHandover.Receive(channel, buffer, out var socket, cts.Token);
            return (n, socket);
        }, TaskCreationOptions.LongRunning);
        return (buffer[..length], passed);
    }
}
