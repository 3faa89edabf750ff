using System.Net;
using Akka.Actor;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Worker.Security;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Which of this worker's service actors serves a via. The router already chose this worker by host and port,
/// and direct or relayed connections arrive on the worker's own port, so here only the path counts: every
/// registration is keyed as a strong wildcard on one fixed port and looked up on that port, which reuses the
/// router's tested longest-prefix rules. Built once at start-up and only read afterwards.
/// </summary>
internal sealed class ServiceRoutes
{
    private const int PathOnlyPort = 1;
    private static readonly IPEndPoint PathOnlyEndPoint = new(IPAddress.Loopback, PathOnlyPort);
    private readonly AddressTable<Route> _table = new();
    private volatile bool _handingBack;

    /// <summary>
    /// Set once a worker that shares its addresses has given them back (shutting down): a pooled connection's next
    /// session then goes back to the router, which passes it to another worker of the address, instead of starting
    /// here on a worker about to exit.
    /// </summary>
    public bool HandingBack => _handingBack;

    public void HandBackNewSessions() => _handingBack = true;

    /// <summary>
    /// A service and the base address it registered (the counters' attribute: a via is the client's to choose), and
    /// its stream upgrade (TLS or Windows credentials) when the endpoint is secured (null: plain net.tcp).
    /// </summary>
    public sealed record Route(IActorRef Service, string BaseAddress, StreamUpgradeAcceptor? Security);

    public void Add(BaseAddress registered, IActorRef service, StreamUpgradeAcceptor? security = null)
    {
        var key = BaseAddress.Parse($"net.tcp://+:{PathOnlyPort}/{string.Join('/', registered.PathSegments)}");
        if (_table.TryAdd(key, new Route(service, registered.ToString(), security), out _) != RegistrationStatus.Success)
            throw new ArgumentException($"Two services of this worker share the path of {registered}.");
    }

    public bool TryMatch(string via, out IActorRef? service) => TryMatch(via, out service, out _);

    public bool TryMatch(string via, out IActorRef? service, out string? baseAddress)
    {
        var found = TryMatchRoute(via, out var route);
        (service, baseAddress) = (route?.Service, route?.BaseAddress);
        return found;
    }

    public bool TryMatchRoute(string via, out Route? route)
    {
        route = null;
        if (!Uri.TryCreate(via, UriKind.Absolute, out var uri)) return false;
        var pathOnlyVia = $"{uri.Scheme}://localhost:{PathOnlyPort}{uri.AbsolutePath}";
        return _table.TryMatch(pathOnlyVia, PathOnlyEndPoint, out _, out route);
    }
}
