using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using AkkaPortShare.Contracts.Registration;

namespace AkkaPortShare.Router;

/// <summary>Messages inside the router process. Those carrying a <see cref="Socket"/> never leave it.</summary>
/// <remarks>
/// None of them can arrive over Akka.Remote (so nobody on the network can Resolve a via): the router reads only the
/// registry protocol from the network (see <c>Remoting/GuardedSerializers.cs</c>).
/// </remarks>
internal static class RoutingProtocol
{
    /// <summary>Connection to registry: who serves this via on this local end point?</summary>
    public sealed record Resolve(string Via, IPEndPoint LocalEndPoint);

    /// <summary>Gateway is the worker's hand-over channel, or null when the connection must be relayed.</summary>
    public sealed record RouteFound(string BaseAddress, WorkerEndpoint Worker, IActorRef? Gateway);

    public sealed record RouteNotFound(string Via);

    /// <summary>Connection to gateway: pass this socket, with the bytes already read from it, to the worker.</summary>
    public sealed record HandOver(Socket Socket, byte[] AlreadyRead, string Via) : INoSerializationVerificationNeeded
    {
        /// <summary>
        /// No asynchronous operation was ever started on the socket (the accept loop's own hand-over): releasing
        /// the router's copy is then a plain close (see UnixHandover.ReleaseAfterHandover).
        /// </summary>
        public bool NeverAsync { get; init; }

        /// <summary>The client already has this session's PreambleAck: a worker passed it on to the holder of its reliable session.</summary>
        public bool Resumed { get; init; }

        public override string ToString() => $"HandOver({Via}, {AlreadyRead.Length} bytes read)";
    }

    /// <summary>
    /// A message that carries a hand-over's socket without being the <see cref="HandOver"/> itself (e.g. a gateway's
    /// report from its sender thread). If it becomes a dead letter, the client still gets its fault.
    /// </summary>
    public interface ICarriesHandOver
    {
        HandOver HandOver { get; }
    }

    /// <summary>
    /// To the registry: a hand-over that never reached its worker because the worker's channel closed (it died). The
    /// registry passes it to another worker of the address, or answers ConnectionDispatchFailed.
    /// </summary>
    public sealed record Undelivered(HandOver HandOver, string Reason) : ICarriesHandOver, INoSerializationVerificationNeeded;

    /// <summary>
    /// Gateway to registry, registry to listener: a worker handed a connection back for a fresh routing decision.
    /// The listener takes it like an accepted socket (held, counted as pending while its preamble is incomplete).
    /// </summary>
    public sealed record Reroute(Socket Socket, byte[] AlreadyRead) : INoSerializationVerificationNeeded
    {
        public override string ToString() => $"Reroute({AlreadyRead.Length} bytes read)";
    }

    /// <summary>
    /// Gateway to registry: a worker passed back a connection whose reliable session the worker <paramref name="Holder"/>
    /// holds (HandoverFrame.SessionMove), with the bytes from its preamble's start.
    /// </summary>
    public sealed record MoveToSessionHolder(Socket Socket, AkkaPortShare.Protocol.Handover.SessionRouteKey Holder, byte[] AlreadyRead)
        : INoSerializationVerificationNeeded
    {
        public override string ToString() => $"MoveToSessionHolder({Holder}, {AlreadyRead.Length} bytes read)";
    }

    /// <summary>Gateway to registry (the sender is the gateway): the worker's hand-over channel closed, so the worker process is gone.</summary>
    public sealed record WorkerChannelClosed(string Reason);

    /// <summary>
    /// Anyone to the fault-drains actor: send this fault on the socket, drain it and close it. The socket now
    /// belongs to the fault-drains actor, which bounds how many sockets drain at once.
    /// </summary>
    public sealed record DrainAfterFault(Socket Socket, string FaultUri, string Peer) : INoSerializationVerificationNeeded
    {
        public override string ToString() => $"DrainAfterFault({Peer}, {FaultUri})";
    }

    /// <summary>Listener to connection: too many unrouted connections and this is the oldest; close now.</summary>
    public sealed class Shed
    {
        public static readonly Shed Instance = new();
        private Shed() { }
    }

    /// <summary>
    /// Listener to registry, as it starts (and after each restart; the sender is the listener): where the
    /// registry sends every <see cref="Reroute"/>, so that the listener owns every connection actor.
    /// </summary>
    public sealed class ListenerReady
    {
        public static readonly ListenerReady Instance = new();
        private ListenerReady() { }
    }

    /// <summary>
    /// Shutdown to listener: accept nothing more (the shared port stays open, so clients wait in its backlog for
    /// the next router); connections already accepted go on being routed. Answered with <see cref="Akka.Done"/>.
    /// </summary>
    public sealed class StopAccepting
    {
        public static readonly StopAccepting Instance = new();
        private StopAccepting() { }
    }
}
