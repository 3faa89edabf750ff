using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Interop.Relay;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Relay;

/// <summary>
/// Gives a connection routed to "relay" to the splice engine, from whoever decided the route (the accept loop's
/// <see cref="Listening.DirectHandover"/> or a <see cref="ConnectionActor"/>): the client's socket, the bytes already
/// read of it and the worker's data endpoint. The engine connects to the worker itself, sends those bytes and
/// splices; nothing of the router stays with the connection (no actor, no managed socket, no task), and one
/// instance of this class hears how every relay of its listener ended, on the engine's threads.
/// </summary>
/// <remarks>
/// The relayed count (max-relayed-connections, the status's relayed connections) is taken before the engine gets
/// the connection and given back when it ends or cannot connect. A connect that fails gives the client back as a
/// held socket to the fault drains, which answer ConnectionDispatchFailed, as the connection actor did before.
/// </remarks>
internal sealed class RelayHandoff(SpliceRelayEngine engine, HeldConnections held, IActorRef drains, ILoggingAdapter log)
    : ISpliceRelayOwner
{
    /// <summary>The worker's data endpoint when it is an address literal (the usual registration); a host name
    /// needs the resolver, which the connection actor's path awaits.</summary>
    public static IPEndPoint? EndPoint(WorkerEndpoint worker) =>
        IPAddress.TryParse(worker.DataHost, out var address) ? new IPEndPoint(address, worker.DataPort) : null;

    /// <summary>
    /// Relays <paramref name="client"/> (already counted by HeldConnections.TryStartRelay) to <paramref name="worker"/>.
    /// The socket is no longer the caller's. <paramref name="neverAsync"/>: no asynchronous operation was ever started
    /// on it (straight from the accept thread), so .NET's epoll sets never held it.
    /// </summary>
    public void Start(Socket client, byte[] alreadyRead, IPEndPoint worker, bool neverAsync = false)
    {
        if (engine.Connect(client, alreadyRead, worker, this, neverAsync, out var failure) is null) ConnectFailed(client, failure!);
    }

    public void Finished(SpliceRelayOutcome outcome)
    {
        held.EndRelay();
        if (outcome.Error is not null && log.IsDebugEnabled) log.Debug("Relay ended: {0}", outcome.Error);
    }

    public void ConnectFailed(Socket client, string reason)
    {
        string peer = Peer(client);
        log.Warning("Relay to worker failed for {0}: {1}", peer, reason);
        held.RelayNotStarted(client);
        drains.Tell(new DrainAfterFault(client, FramingFaults.ConnectionDispatchFailed, peer));
    }

    private static string Peer(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint?.ToString() ?? "unknown peer";
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return "unknown peer";
        }
    }
}
