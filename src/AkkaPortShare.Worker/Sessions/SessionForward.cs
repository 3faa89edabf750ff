using System.Net.Sockets;
using Akka.Event;
using AkkaPortShare.Interop.Relay;
using AkkaPortShare.Worker.Configuration;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Carries a reliable session's relayed connection to the worker of its address that holds the session (see
/// SessionConnectionActor.Moving): replays it there (<see cref="ReplayedConnection"/>: the client has this worker's
/// PreambleAck, so that worker's is taken out), then copies both ways until both directions end, as a router's relay
/// would.
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
            byte? forClient;
            using (var deadline = new CancellationTokenSource(settings.SessionForwardTimeout))
                (holder, forClient) = await ReplayedConnection.OpenAsync(ReplayedConnection.EndPointOf(host, port), fromPreambleStart,
                    deadline.Token).ConfigureAwait(false);
            if (forClient is { } first) await client.SendAsync(new[] { first }, SocketFlags.None).ConfigureAwait(false);
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
