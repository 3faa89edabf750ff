using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;

namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// A parsed registration key: scheme, host token, port and path segments, as the Windows service splits a
/// registered URI. Immutable. Two instances are equal when their segment lists are equal case-insensitively
/// (the Windows table compares with OrdinalIgnoreCase); query and fragment are not part of the key.
/// </summary>
public sealed class BaseAddress : IEquatable<BaseAddress>
{
    /// <summary>The Windows service refuses longer registered URIs (ListenerConstants.MaxUriSize).</summary>
    public const int MaxAddressBytes = 2048;

    public const string NetTcpScheme = UriSplitter.NetTcpScheme;

    /// <summary>net.tcp's default port; a via for this port carries no port at all.</summary>
    public const int DefaultPort = UriSplitter.DefaultPort;

    private static readonly StringComparer KeyComparer = StringComparer.OrdinalIgnoreCase;

    private readonly string[] _segments;
    private readonly string _canonical;
    private readonly int _hashCode;

    private BaseAddress(
        string original, HostNameComparisonMode mode, string host, IPAddress? hostAddress, int port, string[] segments)
    {
        Original = original;
        Mode = mode;
        Host = host;
        HostAddress = hostAddress;
        LocalAddressFilter = hostAddress is null ? null : LocalAddressFilter.For(hostAddress);
        Port = port;
        _segments = segments;
        _canonical = BuildCanonical(host, port, segments);
        _hashCode = ComputeHashCode();
    }

    /// <summary>The text this address was parsed from, unchanged.</summary>
    public string Original { get; }

    /// <summary>Always <c>net.tcp</c>.</summary>
    public string Scheme => NetTcpScheme;

    public HostNameComparisonMode Mode { get; }

    /// <summary>
    /// <c>+</c>, <c>*</c>, or the literal host: DNS names lower-cased, IP literals in canonical form
    /// (IPv6 in brackets, without zone).
    /// </summary>
    public string Host { get; }

    /// <summary>The address when <see cref="Host"/> is an IP literal (Exact mode only); otherwise null.</summary>
    public IPAddress? HostAddress { get; }

    public int Port { get; }

    /// <summary>Canonical path segments (escaping normalised, dot segments resolved, no empty segments).</summary>
    public IReadOnlyList<string> PathSegments => _segments;

    /// <summary>Null when any local address is acceptable; see <see cref="AcceptsLocalAddress"/>.</summary>
    internal LocalAddressFilter? LocalAddressFilter { get; }

    /// <summary>
    /// Whether a connection that arrived on <paramref name="localAddress"/> may be routed here: always, unless
    /// <see cref="Host"/> is an IP literal other than 0.0.0.0 / [::], in which case it must be that address
    /// (IPv4-mapped IPv6 addresses count as their IPv4 address).
    /// </summary>
    public bool AcceptsLocalAddress(IPAddress localAddress)
    {
        ArgumentNullException.ThrowIfNull(localAddress);
        return LocalAddressFilter?.Accepts(localAddress) ?? true;
    }

    public static bool TryParse(
        [NotNullWhen(true)] string? address, [NotNullWhen(true)] out BaseAddress? result, out string? error) =>
        TryParse(address, out result, out _, out error);

    /// <summary>
    /// Like <see cref="TryParse(string?, out BaseAddress?, out string?)"/>, and also tells why it failed:
    /// <see cref="RegistrationStatus.PathTooLong"/> or <see cref="RegistrationStatus.InvalidAddress"/>
    /// (<see cref="RegistrationStatus.Success"/> when it worked).
    /// </summary>
    public static bool TryParse(
        [NotNullWhen(true)] string? address,
        [NotNullWhen(true)] out BaseAddress? result,
        out RegistrationStatus status,
        out string? error)
    {
        result = null;
        status = RegistrationStatus.InvalidAddress;
        if (string.IsNullOrWhiteSpace(address))
        {
            error = "The address is empty.";
            return false;
        }

        int byteCount = Encoding.UTF8.GetByteCount(address);
        if (byteCount > MaxAddressBytes)
        {
            status = RegistrationStatus.PathTooLong;
            error = $"The address is longer than {MaxAddressBytes} bytes ({byteCount} bytes in UTF-8).";
            return false;
        }

        string? reason = UriSplitter.TrySplit(address, out UriParts parts);
        if (reason is null)
        {
            reason = HostSyntax.TryReadRegistrationHost(
                parts.Host, out HostNameComparisonMode mode, out string host, out IPAddress? hostAddress);
            if (reason is null && parts.Port == 0)
            {
                // Port 0 means "any free port" to a socket; a shared listener needs a real one.
                reason = "the port must be from 1 to 65535";
            }

            if (reason is null)
            {
                string[] segments = [.. PathSyntax.ToSegments(parts.Path)];
                result = new BaseAddress(address, mode, host, hostAddress, parts.Port, segments);
                status = RegistrationStatus.Success;
                error = null;
                return true;
            }
        }

        error = $"'{address}' is not a valid net.tcp base address: {reason}.";
        return false;
    }

    /// <exception cref="FormatException">The address is invalid or too long; the message says why.</exception>
    public static BaseAddress Parse(string address) =>
        TryParse(address, out BaseAddress? result, out string? error) ? result : throw new FormatException(error);

    /// <summary>Canonical form, always with port and trailing slash, e.g. <c>net.tcp://+:8808/echo/</c>.</summary>
    public override string ToString() => _canonical;

    public bool Equals(BaseAddress? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other.Mode != Mode || other.Port != Port || other._hashCode != _hashCode
            || other._segments.Length != _segments.Length || !KeyComparer.Equals(other.Host, Host))
        {
            return false;
        }

        for (int i = 0; i < _segments.Length; i++)
        {
            if (!KeyComparer.Equals(_segments[i], other._segments[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as BaseAddress);

    public override int GetHashCode() => _hashCode;

    public static bool operator ==(BaseAddress? left, BaseAddress? right) =>
        left is null ? right is null : left.Equals(right);

    public static bool operator !=(BaseAddress? left, BaseAddress? right) => !(left == right);

    private int ComputeHashCode()
    {
        var hash = new HashCode();
        hash.Add(Mode);
        hash.Add(Port);
        hash.Add(Host, KeyComparer);
        foreach (string segment in _segments)
        {
            hash.Add(segment, KeyComparer);
        }

        return hash.ToHashCode();
    }

    private static string BuildCanonical(string host, int port, string[] segments)
    {
        var builder = new StringBuilder(NetTcpScheme).Append("://").Append(host).Append(':').Append(port).Append('/');
        foreach (string segment in segments)
        {
            builder.Append(segment).Append('/');
        }

        return builder.ToString();
    }
}
