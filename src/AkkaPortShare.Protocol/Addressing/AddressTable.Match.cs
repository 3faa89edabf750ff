using System.Net;

namespace AkkaPortShare.Protocol.Addressing;

public sealed partial class AddressTable<TOwner>
{
    /// <summary>
    /// Finds the registration that a new connection belongs to, by the Windows service's rules:
    /// <list type="number">
    /// <item>StrongWildcard ('+'): the via's path on the connection's actual local port;</item>
    /// <item>Exact: the via's host and port (808 when the via has none);</item>
    /// <item>WeakWildcard ('*'): the via's path on the local port.</item>
    /// </list>
    /// Within a mode the longest registered prefix by whole segments wins; the first mode with a hit wins even if
    /// a later mode has a longer prefix. An Exact registration on an IP literal other than 0.0.0.0 / [::] only
    /// takes connections that arrived on that local address.
    /// </summary>
    /// <param name="via">The destination URI from the preamble; anything but an absolute net.tcp URI just fails.</param>
    /// <param name="localEndPoint">The accepted socket's local end point (IPv4, IPv6 or IPv4-mapped IPv6).</param>
    /// <param name="owner">The registration's holder (its first one when the address is shared).</param>
    public bool TryMatch(string via, IPEndPoint localEndPoint, out BaseAddress? matched, out TOwner? owner)
    {
        Registration<TOwner>? hit = Match(via, localEndPoint);
        matched = hit?.Address;
        owner = hit is null ? default : hit.Owner;
        return hit is not null;
    }

    /// <summary>As <see cref="TryMatch"/>, with every holder of the matched registration (oldest first).</summary>
    public bool TryMatchAll(string via, IPEndPoint localEndPoint, out BaseAddress? matched, out IReadOnlyList<TOwner>? owners)
    {
        Registration<TOwner>? hit = Match(via, localEndPoint);
        matched = hit?.Address;
        owners = hit?.Owners;
        return hit is not null;
    }

    private Registration<TOwner>? Match(string via, IPEndPoint localEndPoint)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        if (via is null || UriSplitter.TrySplit(via, out UriParts parts) is not null)
        {
            return null;
        }

        // Vias from WCF clients are canonical (Uri.AbsoluteUri); only odd ones pay for a canonical copy.
        ReadOnlySpan<char> path = PathSyntax.IsCanonical(parts.Path) ? parts.Path : PathSyntax.Canonicalize(parts.Path);

        _ports.TryGetValue(localEndPoint.Port, out PortBucket<TOwner>? local);
        Registration<TOwner>? hit = local?.Strong?.FindLongestPrefix(path);

        if (hit is null && _ports.TryGetValue(parts.Port, out PortBucket<TOwner>? viaPort))
        {
            Span<char> buffer = stackalloc char[HostSyntax.CanonicalBufferLength];
            ReadOnlySpan<char> host = HostSyntax.CanonicalViaHost(parts.Host, buffer);
            hit = host.IsEmpty ? null : viaPort.FindExact(host)?.FindLongestPrefix(path);

            // Every entry of one Exact trie has the same host, so if the longest one refuses this local address
            // every shorter one would too: "skip it and keep searching shorter prefixes in this mode" and
            // "this mode has no match" are the same thing here, and we go on to the WeakWildcard mode.
            if (hit?.Address.LocalAddressFilter is { } filter && !filter.Accepts(localEndPoint.Address))
            {
                hit = null;
            }
        }

        return hit ?? local?.Weak?.FindLongestPrefix(path);
    }
}
