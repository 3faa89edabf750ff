using System.Net;
using System.Net.Sockets;

namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// Reads host tokens. IP literals are rewritten to one canonical spelling (System.Uri does the same with
/// <c>Uri.Host</c>, which the Windows service keys on), so <c>[0:0::1]</c> and <c>[::1]</c> are one key.
/// </summary>
internal static class HostSyntax
{
    public const string StrongWildcardToken = "+";
    public const string WeakWildcardToken = "*";

    /// <summary>Long enough for a bracketed IPv6 literal in any spelling IPAddress can produce.</summary>
    public const int CanonicalBufferLength = 64;

    /// <summary>Reads a registration's host token. Returns null on success, else a reason.</summary>
    public static string? TryReadRegistrationHost(
        ReadOnlySpan<char> token, out HostNameComparisonMode mode, out string host, out IPAddress? address)
    {
        mode = HostNameComparisonMode.Exact;
        address = null;
        host = string.Empty;
        if (token.SequenceEqual(StrongWildcardToken))
        {
            mode = HostNameComparisonMode.StrongWildcard;
            host = StrongWildcardToken;
            return null;
        }

        if (token.SequenceEqual(WeakWildcardToken))
        {
            mode = HostNameComparisonMode.WeakWildcard;
            host = WeakWildcardToken;
            return null;
        }

        if (token[0] == '[')
        {
            if (!TryParseIPv6(token, out address))
            {
                return "the host is not a valid IPv6 literal";
            }

            host = "[" + address.ToString() + "]";
            return null;
        }

        if (TryParseIPv4(token, out address))
        {
            host = address.ToString();
            return null;
        }

        foreach (char c in token)
        {
            if (!IsHostNameChar(c))
            {
                return "the host must be '+', '*', a DNS name or an IP literal";
            }
        }

        // DNS names are case-insensitive; store them the way System.Uri shows them.
        host = token.ToString().ToLowerInvariant();
        return null;
    }

    /// <summary>
    /// Gives the spelling of a via's host under which an Exact registration would be stored. IP literals are
    /// formatted into <paramref name="buffer"/>; any other host is returned as it is (the table compares
    /// case-insensitively). Returns an empty span for an unusable host.
    /// </summary>
    public static ReadOnlySpan<char> CanonicalViaHost(ReadOnlySpan<char> host, Span<char> buffer)
    {
        if (host[0] == '[')
        {
            // Rare on the wire; parsing allocates one IPAddress, which is acceptable here.
            if (!TryParseIPv6(host, out IPAddress? v6) || !v6.TryFormat(buffer[1..^1], out int written))
            {
                return default;
            }

            buffer[0] = '[';
            buffer[written + 1] = ']';
            return buffer[..(written + 2)];
        }

        if (!IsDigitsAndDots(host) || IsCanonicalDottedQuad(host))
        {
            return host;
        }

        // Odd IPv4 spellings ("127.000.0.01", "1") are what System.Uri would also normalise.
        if (TryParseIPv4(host, out IPAddress? v4) && v4.TryFormat(buffer, out int length))
        {
            return buffer[..length];
        }

        return host;
    }

    private static bool TryParseIPv6(ReadOnlySpan<char> bracketed, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (bracketed.Length < 3 || bracketed[^1] != ']')
        {
            return false;
        }

        ReadOnlySpan<char> inner = bracketed[1..^1];
        // A zone ("%25eth0" in a URI) does not take part in the key: Uri.Host drops it as well.
        int zone = inner.IndexOf('%');
        if (zone >= 0)
        {
            inner = inner[..zone];
        }

        return IPAddress.TryParse(inner, out address) && address.AddressFamily == AddressFamily.InterNetworkV6;
    }

    private static bool TryParseIPv4(ReadOnlySpan<char> token, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        return IsDigitsAndDots(token)
            && IPAddress.TryParse(token, out address)
            && address.AddressFamily == AddressFamily.InterNetwork;
    }

    private static bool IsDigitsAndDots(ReadOnlySpan<char> token)
    {
        foreach (char c in token)
        {
            if (!char.IsAsciiDigit(c) && c != '.')
            {
                return false;
            }
        }

        return true;
    }

    // "a.b.c.d" with each part 0-255 and no leading zeros: already what IPAddress.ToString would print.
    private static bool IsCanonicalDottedQuad(ReadOnlySpan<char> token)
    {
        int parts = 0;
        foreach (Range range in token.Split('.'))
        {
            ReadOnlySpan<char> part = token[range];
            if (++parts > 4 || part.IsEmpty || part.Length > 3 || (part.Length > 1 && part[0] == '0')
                || int.Parse(part, provider: System.Globalization.CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }
        }

        return parts == 4;
    }

    // Letters, digits, '-', '.', '_' and any non-ASCII character (internationalised names).
    private static bool IsHostNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' || c > 0x7F;
}
