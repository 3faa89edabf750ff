using System.Net;
using Akka.Actor;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Router.Handover;

namespace AkkaPortShare.Router.Registration;

/// <summary>Where a via's connections go: the registration it matched and its worker's hand-over channel.</summary>
/// <param name="Gateway">The worker's gateway, or null when its connections are relayed.</param>
/// <param name="Lane">The way past the gateway's mailbox (see <see cref="HandoverLane"/>); null when relayed.</param>
internal sealed record RouteTarget(string BaseAddress, WorkerEndpoint Worker, IActorRef? Gateway, HandoverLane? Lane);

/// <summary>
/// A read-only copy of the registry's address table at one moment, which the accept loops match a via against
/// without asking the registry (and without a message per connection). Built by the <see cref="RegistryActor"/>,
/// the one authority, after each change and never changed afterwards, so any thread may read it.
/// </summary>
/// <remarks>
/// It only ever answers "routed to this gateway", "relayed to this worker's data endpoint" or "ask the registry":
/// a via it does not match goes the slow way
/// (a connection actor that asks the registry), which parks it during restart-grace or answers EndpointNotFound.
/// A snapshot one change behind is harmless: a hand-over to a gateway stopped meanwhile becomes a dead letter and
/// its client gets ConnectionDispatchFailed, as when a worker dies between Resolve and the hand-over (a relay to a
/// worker gone meanwhile is refused or times out: the same fault).
/// </remarks>
internal sealed class RouteSnapshot
{
    public static readonly RouteSnapshot Empty = new(new AddressTable<RouteTarget>());

    // Written only in From, before the snapshot is published; AddressTable.TryMatch only reads.
    private readonly AddressTable<RouteTarget> _table;

    private RouteSnapshot(AddressTable<RouteTarget> table) => _table = table;

    public bool IsEmpty => _table.Count == 0;

    public static RouteSnapshot From(IEnumerable<(BaseAddress Address, RegisteredWorker Owner)> entries)
    {
        var table = new AddressTable<RouteTarget>();
        foreach (var (address, owner) in entries)
            table.TryAdd(address, new RouteTarget(address.ToString(), owner.Endpoint, owner.PassSockets ? owner.Gateway : null,
                owner.PassSockets ? owner.Lane : null), out _);
        return table.Count == 0 ? Empty : new RouteSnapshot(table);
    }

    /// <summary>The registration this via belongs to (the registry's own matching rules), if any.</summary>
    public bool TryMatch(string via, IPEndPoint localEndPoint, out RouteTarget? target)
    {
        target = null;
        if (IsEmpty) return false;
        return _table.TryMatch(via, localEndPoint, out _, out target);
    }
}

/// <summary>
/// The latest <see cref="RouteSnapshot"/> the registry published, one per actor system: a volatile reference, read
/// per accepted connection without a lock or a message.
/// </summary>
internal sealed class RouteSnapshots : IExtension
{
    private RouteSnapshot _current = RouteSnapshot.Empty;

    public static RouteSnapshots Get(ActorSystem system) =>
        system.GetExtension<RouteSnapshots>() ?? system.WithExtension<RouteSnapshots, RouteSnapshotsProvider>();

    public RouteSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Only the registry calls this.</summary>
    public void Publish(RouteSnapshot snapshot) => Volatile.Write(ref _current, snapshot);
}

internal sealed class RouteSnapshotsProvider : ExtensionIdProvider<RouteSnapshots>
{
    public override RouteSnapshots CreateExtension(ExtendedActorSystem system) => new();
}
