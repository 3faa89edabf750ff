using System.Net;

namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// The Windows service's rule for Exact registrations on an IP literal: the connection must have arrived on that
/// very local address, unless the literal is 0.0.0.0 or [::]. Addresses are compared as raw bytes with
/// IPv4-mapped IPv6 folded to IPv4 (a dual-mode socket reports 127.0.0.1 as ::ffff:127.0.0.1) and without the
/// IPv6 scope id, so that a check costs no allocation.
/// </summary>
internal sealed class LocalAddressFilter
{
    private readonly byte[] _required;

    private LocalAddressFilter(byte[] required) => _required = required;

    /// <summary>Null when the address accepts every local address (0.0.0.0, [::] or their mapped forms).</summary>
    public static LocalAddressFilter? For(IPAddress registered)
    {
        Span<byte> bytes = stackalloc byte[16];
        int length = WriteFolded(registered, bytes);
        return bytes[..length].IndexOfAnyExcept((byte)0) < 0 ? null : new LocalAddressFilter(bytes[..length].ToArray());
    }

    public bool Accepts(IPAddress local)
    {
        Span<byte> bytes = stackalloc byte[16];
        int length = WriteFolded(local, bytes);
        return bytes[..length].SequenceEqual(_required);
    }

    private static int WriteFolded(IPAddress address, Span<byte> destination)
    {
        address.TryWriteBytes(destination, out int written);
        if (written == 16 && address.IsIPv4MappedToIPv6)
        {
            destination[12..16].CopyTo(destination);
            return 4;
        }

        return written;
    }
}
