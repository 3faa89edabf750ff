using System.Net.Sockets;
using Akka.Event;
using AkkaPortShare.Interop.Relay;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Worker.Configuration;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Carries a reliable session's relayed connection to the worker of its address that holds the session (see
/// SessionConnectionActor.Forward): connects to that worker's data endpoint, sends the client's bytes from the
/// preamble on, takes that worker's PreambleAck out of the stream (the client has this worker's; anything else, a
/// fault, is the client's to read), then copies both ways until both directions end, as a router's relay would.
/// </summary>
/// <remarks>
/// Off the actor. The connect, the send and the first byte share session-forward-timeout; a failure closes the
/// client's connection (its reliable session connects again). The forward holds the connection's place in
/// max-connections until it ends.
/// </remarks>
internal static class SessionForward
{
    public static void Start(Socket client, byte[] fromPreambleStart, string host, int port, string via, WorkerSettings settings,
        ConnectionBudget budget, ILoggingAdapter log, string peer) =>
        _ = RunAsync(client, fromPreambleStart, host, port, via, settings, budget, log, peer);

    private static async Task RunAsync(Socket client, byte[] fromPreambleStart, string host, int port, string via,
        WorkerSettings settings, ConnectionBudget budget, ILoggingAdapter log, string peer)
    {
        Socket? holder = null;
        try
        {
            holder = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var first = new byte[1];
            using (var deadline = new CancellationTokenSource(settings.SessionForwardTimeout))
            {
                await holder.ConnectAsync(host, port, deadline.Token).ConfigureAwait(false);
                await holder.SendAsync(fromPreambleStart, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (await holder.ReceiveAsync(first, SocketFlags.None, deadline.Token).ConfigureAwait(false) == 0)
                    throw new SocketException((int)SocketError.ConnectionReset);
            }
            if (first[0] != (byte)FramingRecordType.PreambleAck) await client.SendAsync(first, SocketFlags.None).ConfigureAwait(false);
            log.Info("Connection from {0} for {1}: carried to {2}:{3}, the worker that holds its reliable session", peer, via, host, port);
            var copied = await SocketRelay.RunAsync(client, holder, settings.ReadBufferSize).ConfigureAwait(false);
            log.Debug("Connection from {0} for {1}, carried to {2}:{3}, ended ({4} bytes there, {5} back{6})",
                new object[] { peer, via, host, port, copied.ToWorker, copied.ToClient, copied.Error is null ? "" : $"; {copied.Error.Message}" });
        }
        catch (Exception e) // off any actor, and the client's socket is this task's alone: whatever failed, both close
        {
            var reason = e is OperationCanceledException ? $"no PreambleAck within {settings.SessionForwardTimeout.TotalSeconds:0.#} s" : e.Message;
            log.Warning("Could not carry the connection from {0} for {1} to {2}:{3}, the worker that holds its reliable session: {4}; " +
                "closing it (the client's reliable session connects again)", new object[] { peer, via, host, port, reason });
            holder?.Dispose();
            client.Dispose();
        }
        finally
        {
            budget.Closed();
        }
    }
}
