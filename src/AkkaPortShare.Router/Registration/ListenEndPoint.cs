using System.Net;
using System.Net.Sockets;
using AkkaPortShare.Protocol.Addressing;

namespace AkkaPortShare.Router.Registration;

/// <summary>
/// Where the router's listener accepts connections (listen-address and port), to refuse a registration no client
/// could ever reach: another port, or an IP-literal host the listen address does not cover. Host names and
/// wildcards are not checked: which names reach this host is DNS's business.
/// </summary>
internal sealed class ListenEndPoint(IPAddress address, int port)
{
    private readonly IPEndPoint _endPoint = new(address, port);

    /// <summary>Null when <paramref name="registration"/> can be reached through the listener, else why not.</summary>
    public string? Refusal(BaseAddress registration)
    {
        // Port 0 (tests): the port is the kernel's choice and known only to the listener; nothing to compare.
        if (port != 0 && registration.Port != port)
            return $"The router listens on {_endPoint} only: {registration} names port {registration.Port}.";
        if (registration.HostAddress is { } host && !Covers(host))
            return $"The router listens on {_endPoint} only: {registration} names host {registration.Host}, which that address does not cover.";
        return null;
    }

    private bool Covers(IPAddress host)
    {
        if (host.IsIPv4MappedToIPv6) host = host.MapToIPv4();
        if (host.Equals(IPAddress.Any) || host.Equals(IPAddress.IPv6Any)) return true;
        if (address.Equals(IPAddress.IPv6Any)) return true; // dual-stack: every IPv4 and IPv6 address of the host
        if (address.Equals(IPAddress.Any)) return host.AddressFamily == AddressFamily.InterNetwork;
        var listening = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return host.Equals(listening);
    }
}
