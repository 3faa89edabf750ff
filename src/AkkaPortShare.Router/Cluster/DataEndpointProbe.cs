using System.Net.Sockets;

namespace AkkaPortShare.Router.Cluster;

/// <summary>
/// Whether a worker still accepts connections on its data endpoint (its own net.tcp listener, the one a router
/// relays to): a TCP connect, closed again without a byte sent. Used when an association with a worker member
/// closed, which alone proves nothing (Akka.Remote also closes associations it replaces); a process that died has
/// no listener any more, and its host's kernel refuses the connect at once.
/// </summary>
internal static class DataEndpointProbe
{
    /// <summary>The probe's verdict; <paramref name="Detail"/> says why, for log lines.</summary>
    public sealed record Outcome(bool Accepts, string Detail);

    // A listener closing as its process exits may still complete a handshake queued just before: such a
    // connection is reset at once. A live worker waits for a preamble and sends nothing, so a probe connection
    // that reads end-of-file or a reset within this window found a dying listener.
    private static readonly TimeSpan ResetWindow = TimeSpan.FromMilliseconds(50);

    /// <param name="timeout">How long the connect may take (a host that vanished answers nothing).</param>
    public static async Task<Outcome> RunAsync(string host, int port, TimeSpan timeout)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using (var connecting = new CancellationTokenSource(timeout))
                await socket.ConnectAsync(host, port, connecting.Token).ConfigureAwait(false);
            // A read that ends (end of file) or fails (reset) within the window: a dying listener's connection. A byte
            // is an answer: a live worker at max-connections faults a new connection at once (ServerTooBusy).
            using var window = new CancellationTokenSource(ResetWindow);
            try
            {
                if (await socket.ReceiveAsync(new byte[1], SocketFlags.None, window.Token).ConfigureAwait(false) > 0)
                    return new Outcome(true, $"its data endpoint {host}:{port} answers (a busy worker's fault, say)");
                return new Outcome(false, $"its data endpoint {host}:{port} closed the probe connection");
            }
            catch (OperationCanceledException) when (window.IsCancellationRequested)
            {
                return new Outcome(true, $"its data endpoint {host}:{port} accepts connections");
            }
        }
        catch (SocketException e)
        {
            return new Outcome(false, $"its data endpoint {host}:{port} refuses connections ({e.SocketErrorCode})");
        }
        catch (OperationCanceledException)
        {
            return new Outcome(false, $"its data endpoint {host}:{port} did not answer within {timeout.TotalMilliseconds:0} ms");
        }
    }
}
