using AkkaPortShare.Interop.Relay;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Relay;

/// <summary>
/// Relays a reliable session's connection that another worker of its address passed back (it holds the session's
/// key, not that worker) to the session's worker when that one takes no sockets from here: another router's worker
/// in a cluster, or one admitted for relay. Its client already has a PreambleAck, from the first worker; so the
/// router connects, sends the preamble and every byte since, takes the worker's own PreambleAck out of the stream, and
/// relays from there as any relayed connection (the splice engine, else the copy).
/// </summary>
/// <remarks>
/// Counted as relayed (max-relayed-connections) from before the connect. Nothing waits inside an actor: the connect,
/// the send and the one-byte read run as one task, all bounded by relay-connect-timeout; a failure answers the client
/// ConnectionDispatchFailed through the fault drains, as any relay that could not start.
/// </remarks>
internal sealed class ResumedRelay(RouterSettings settings, HeldConnections held, IActorRef drains, ILoggingAdapter log,
    RelayEngines engines)
{
    /// <summary>
    /// Starts relaying <paramref name="client"/> (no longer the caller's) to <paramref name="worker"/>; false when
    /// max-relayed-connections is reached (the client is still the caller's then).
    /// </summary>
    public bool TryStart(Socket client, byte[] fromPreambleStart, WorkerEndpoint worker, string via)
    {
        if (!held.TryStartRelay(client, settings.MaxRelayedConnections)) return false;
        _ = RunAsync(client, fromPreambleStart, worker, via);
        return true;
    }

    private async Task RunAsync(Socket client, byte[] fromPreambleStart, WorkerEndpoint worker, string via)
    {
        Socket socket;
        byte? forClient;
        try
        {
            using var deadline = new CancellationTokenSource(settings.RelayConnectTimeout);
            (socket, forClient) = await ReplayedConnection.OpenAsync(ReplayedConnection.EndPointOf(worker.DataHost, worker.DataPort),
                fromPreambleStart, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            var reason = e is OperationCanceledException ? $"no PreambleAck within {settings.RelayConnectTimeout.TotalSeconds:0.#} s" : e.Message;
            log.Warning("Could not relay a moved reliable session's connection for {0} to worker pid {1} at {2}:{3}: {4}; ConnectionDispatchFailed",
                via, worker.ProcessId, worker.DataHost, worker.DataPort, reason);
            held.RelayNotStarted(client);
            drains.Tell(new DrainAfterFault(client, FramingFaults.ConnectionDispatchFailed, via));
            return;
        }
        log.Debug("Relaying a moved reliable session's connection for {0} to worker pid {1} at {2}:{3}", via, worker.ProcessId,
            worker.DataHost, worker.DataPort);
        if (forClient is { } first && !await TrySendAsync(client, [first]).ConfigureAwait(false))
        {
            socket.Dispose();
            client.Dispose();
            held.EndRelay();
            return;
        }
        if (engines.Splice is { } engine)
        {
            engine.Start(client, socket, _ => held.EndRelay());
            return;
        }
        await SocketRelay.RunAsync(client, socket, settings.RelayBufferSize).ConfigureAwait(false);
        held.EndRelay();
    }

    private static async Task<bool> TrySendAsync(Socket socket, byte[] bytes)
    {
        try
        {
            await socket.SendAsync(bytes, SocketFlags.None).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
