using System.Net;

namespace AkkaPortShare.Router;

/// <summary>Questions an operator, a host or a test may ask the router's actors.</summary>
/// <remarks>
/// In-process only: these answers (every registration) are not for the network. None of these messages can arrive
/// over Akka.Remote: they have no serializer of their own, and the router refuses the default one (JSON) inbound
/// (see <c>Remoting/GuardedSerializers.cs</c>).
/// </remarks>
public static class RouterProtocol
{
    /// <summary>Ask the listener where it listens and how many connections wait to be routed.</summary>
    public sealed class GetListenerStatus
    {
        public static readonly GetListenerStatus Instance = new();
        private GetListenerStatus() { }
    }

    /// <param name="PendingConnections">Unrouted connections waiting for their client (max-pending-connections).</param>
    public sealed record ListenerStatus(IPEndPoint LocalEndPoint, int PendingConnections)
    {
        /// <summary>False once the router stopped accepting (draining for SIGTERM, or its listener taken over).</summary>
        public bool Accepting { get; init; } = true;

        /// <summary>Accepted connections the router holds, whatever their stage (max-held-connections).</summary>
        public int HeldConnections { get; init; }

        /// <summary>Connections being relayed (max-relayed-connections).</summary>
        public int RelayedConnections { get; init; }
    }

    /// <summary>Ask the fault-drains actor how many faulted sockets are draining, and how many drains it cut short.</summary>
    public sealed class GetDrainStatus
    {
        public static readonly GetDrainStatus Instance = new();
        private GetDrainStatus() { }
    }

    public sealed record DrainStatus(int Draining, long CutShort);

    /// <summary>Ask the registry for every registered address and its worker's pid.</summary>
    public sealed class GetRegistrations
    {
        public static readonly GetRegistrations Instance = new();
        private GetRegistrations() { }
    }

    public sealed record Registrations(IReadOnlyList<RegisteredAddress> Addresses);

    public sealed record RegisteredAddress(string BaseAddress, int ProcessId, string HandoverMode)
    {
        /// <summary>The worker's user as the kernel reported it for its hand-over socket; null when admitted by secret.</summary>
        public uint? UserId { get; init; }

        public string? HostName { get; init; }

        /// <summary>Connections routed to this base address since the router started.</summary>
        public long ConnectionsRouted { get; init; }
    }
}
