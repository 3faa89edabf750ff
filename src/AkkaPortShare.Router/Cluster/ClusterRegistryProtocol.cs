using AkkaPortShare.Contracts.Registration;

namespace AkkaPortShare.Router.Cluster;

/// <summary>
/// Between this router's registry (the authority for workers registered here) and its cluster registry
/// (<see cref="ClusterRegistryActor"/>, which shares them with the other routers). Local messages only: nothing here
/// crosses the network (routers exchange registrations through Akka.DistributedData).
/// </summary>
internal static class ClusterRegistryProtocol
{
    /// <summary>The registry added <paramref name="BaseAddress"/> for a worker of its own: may it keep it cluster-wide?</summary>
    /// <param name="WorkerNode">The worker's actor system address when it is a cluster member, else null.</param>
    /// <param name="Shared">The worker asked to share the address (share-addresses): it may join holders that all do.</param>
    public sealed record Claim(string BaseAddress, WorkerEndpoint Worker, string? WorkerNode = null, bool Shared = false);

    /// <summary>The address is this router's worker's, cluster-wide.</summary>
    public sealed record ClaimGranted(string BaseAddress);

    /// <summary>Another router's worker has the address (<see cref="RegistryProtocol.RefusalReason.AddressAlreadyInUse"/>), or no decision came in time.</summary>
    public sealed record ClaimRefused(string BaseAddress, RegistryProtocol.RefusalReason Reason, string Message);

    /// <summary>The registry let go of addresses of its own workers (unregistered, or the worker is gone).</summary>
    public sealed record Released(IReadOnlyList<string> BaseAddresses);

    /// <summary>A worker of this router sharing a granted address (one of <see cref="LocalHolders"/>).</summary>
    public sealed record LocalHolder(WorkerEndpoint Worker, string WorkerNode);

    /// <summary>The workers of this router that hold a shared address it was granted changed (one joined or left).</summary>
    public sealed record LocalHolders(string BaseAddress, IReadOnlyList<LocalHolder> Holders);

    /// <summary>A worker registered with another router: route its clients there by relay.</summary>
    /// <param name="Router">The router it registered with (for log lines and status).</param>
    /// <param name="WorkerNode">The worker's actor system address when it is a cluster member, else empty.</param>
    /// <param name="Shared">It shares the address: other holders (of any router) may hold it too.</param>
    /// <param name="Key">Which holder (several for a shared address); null: the address itself (its only holder).</param>
    /// <param name="SessionKey">What its reliable sessions' identifiers carry (null: none), so that a session's
    /// connection that reaches another holder can be relayed to it.</param>
    public sealed record RemoteRegistered(string BaseAddress, WorkerEndpoint Worker, string Router, string WorkerNode = "",
        bool Shared = false, string? Key = null, Protocol.Handover.SessionRouteKey? SessionKey = null);

    /// <summary>
    /// This router's worker of <paramref name="BaseAddress"/> registered it through router <paramref name="Router"/>,
    /// which has it now (the cluster moved it there): the registry forgets its own registration of it, releasing
    /// nothing, and routes to the worker through the new holder (<see cref="RemoteRegistered"/> follows).
    /// </summary>
    public sealed record MovedAway(string BaseAddress, WorkerEndpoint Worker, string Router);

    /// <summary>That registration is gone (unregistered, its worker died, or its router left the cluster).</summary>
    public sealed record RemoteUnregistered(string BaseAddress, string? Key = null);

    /// <summary>
    /// A worker member of the cluster (role worker) is unreachable: the registry stops routing to its workers
    /// registered here at once and downs it (its registrations then leave every router through
    /// <see cref="Released"/>).
    /// </summary>
    public sealed record WorkerNodeUnreachable(Akka.Actor.Address Node);

    /// <summary>
    /// This router's association with a worker member closed and the worker's data endpoint does not accept
    /// connections: the registry routes no new connection to that node's workers (its own and other routers'
    /// relayed ones) until <see cref="WorkerNodeAnswers"/>, or until the failure detector removes it.
    /// </summary>
    public sealed record WorkerNodeSilent(Akka.Actor.Address Node, string Reason);

    /// <summary>The node answers again (or left the cluster): routing to it is as its registrations say.</summary>
    public sealed record WorkerNodeAnswers(Akka.Actor.Address Node, string Reason);
}
