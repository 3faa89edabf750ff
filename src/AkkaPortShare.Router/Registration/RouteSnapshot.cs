using System.Net;
using Akka.Actor;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Handover;

namespace AkkaPortShare.Router.Registration;

/// <summary>Where a via's connections go: the registration it matched and its worker's hand-over channel.</summary>
/// <param name="Gateway">The worker's gateway, or null when its connections are relayed.</param>
/// <param name="Lane">The way past the gateway's mailbox (see <see cref="HandoverLane"/>); null when relayed.</param>
internal sealed record RouteTarget(string BaseAddress, WorkerEndpoint Worker, IActorRef? Gateway, HandoverLane? Lane);

/// <summary>
/// A registration's holders in a snapshot: one, or several for a shared address, with their loads (the same
/// <see cref="WorkerLoad"/> objects the registry keeps, so reports reach every snapshot).
/// </summary>
internal sealed class RouteHolders(RouteTarget[] targets, WorkerLoad[] loads, HolderPicker picker)
{
    /// <summary>The holder the next connection goes to (counted as routed there when there is a choice).</summary>
    public RouteTarget Pick() => targets.Length == 1 ? targets[0] : targets[picker.Pick(loads)];
}

/// <summary>
/// A read-only copy of the registry's address table at one moment, which the accept thread matches a via against
/// without asking the registry (and without a message per connection). Built by the <see cref="RegistryActor"/>,
/// the one authority, after each change and never changed afterwards, so any thread may read it.
/// </summary>
/// <remarks>
/// It only ever answers "routed to this gateway", "relayed to this worker's data endpoint" or "ask the registry":
/// a via it does not match goes the slow way (a connection actor that asks the registry), which parks it during
/// restart-grace or answers EndpointNotFound.
/// A snapshot one change behind is harmless: a hand-over to a gateway stopped meanwhile becomes a dead letter, which
/// the registry passes to another worker of a shared address, or answers ConnectionDispatchFailed, as when a
/// worker dies between Resolve and the hand-over (a relay to a worker gone meanwhile is refused or times out: the
/// same fault).
/// A shared address's holder is picked here (<see cref="RouteHolders.Pick"/>), relayed ones included; a connection
/// that still asks the registry (the copy relay engine) is picked again there with the same rule (counted twice).
/// </remarks>
internal sealed class RouteSnapshot
{
    public static readonly RouteSnapshot Empty = new(new AddressTable<RouteHolders>());

    // Written only in From, before the snapshot is published; AddressTable.TryMatch only reads.
    private readonly AddressTable<RouteHolders> _table;

    private RouteSnapshot(AddressTable<RouteHolders> table) => _table = table;

    public bool IsEmpty => _table.Count == 0;

    /// <param name="balancing">How a shared address's holders are chosen (shared-address-balancing).</param>
    public static RouteSnapshot From(IEnumerable<(BaseAddress Address, RegisteredWorker Owner)> entries,
        SharedAddressBalancing balancing = SharedAddressBalancing.LeastConnections)
    {
        var table = new AddressTable<RouteHolders>();
        foreach (var holders in entries.GroupBy(e => e.Address, e => e.Owner))
        {
            var address = holders.Key.ToString();
            var owners = holders.ToArray();
            var targets = owners.Select(o => new RouteTarget(address, o.Endpoint, o.PassSockets ? o.Gateway : null,
                o.PassSockets ? o.Lane : null)).ToArray();
            table.TryAdd(holders.Key, new RouteHolders(targets, owners.Select(o => o.Load).ToArray(), new HolderPicker(balancing)), out _);
        }
        return table.Count == 0 ? Empty : new RouteSnapshot(table);
    }

    /// <summary>
    /// The registration this via belongs to (the registry's own matching rules), if any, and the holder its
    /// connection goes to (see <see cref="HolderPicker"/>).
    /// </summary>
    public bool TryMatch(string via, IPEndPoint localEndPoint, out RouteTarget? target)
    {
        target = null;
        if (IsEmpty || !_table.TryMatch(via, localEndPoint, out _, out var holders)) return false;
        target = holders!.Pick();
        return true;
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
