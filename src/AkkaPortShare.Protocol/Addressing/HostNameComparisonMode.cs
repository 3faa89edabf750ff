namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// How a registration's host takes part in routing, as in WCF's <c>HostNameComparisonMode</c>.
/// The order of the members is the order in which <see cref="AddressTable{TOwner}.TryMatch"/> tries them.
/// </summary>
public enum HostNameComparisonMode
{
    /// <summary>Host token <c>+</c>: any host name; wins over every other mode.</summary>
    StrongWildcard,

    /// <summary>A literal host (DNS name or IP literal) that the client's via must name.</summary>
    Exact,

    /// <summary>Host token <c>*</c>: any host name, but only when nothing else matched.</summary>
    WeakWildcard,
}
