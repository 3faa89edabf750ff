namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// Splits <c>net.tcp://host[:port][/path][?query][#fragment]</c> into its parts. One parser serves both
/// registrations and vias so that both sides of a lookup are read by the same rules. It does not allocate:
/// errors are constant sentences and the parts are slices of the input.
/// </summary>
internal static class UriSplitter
{
    public const string NetTcpScheme = "net.tcp";
    public const int DefaultPort = 808;

    public const string ErrorEmpty = "the address is empty";
    public const string ErrorNotAbsolute = "it is not an absolute URI (it has no scheme)";
    public const string ErrorScheme = "the scheme must be net.tcp";
    public const string ErrorNoAuthority = "'net.tcp:' must be followed by '//' and a host";
    public const string ErrorNoHost = "it has no host";
    public const string ErrorUserInfo = "user information ('user@') is not allowed in a net.tcp address";
    public const string ErrorIPv6Bracket = "an IPv6 host must be closed with ']'";
    public const string ErrorPort = "the port must be a number from 0 to 65535";

    /// <summary>Returns null on success, otherwise a short reason (one of the Error constants).</summary>
    public static string? TrySplit(ReadOnlySpan<char> text, out UriParts parts)
    {
        parts = default;
        // System.Uri ignores surrounding white space too; a via never has any, a hand-written address might.
        text = text.Trim();
        if (text.IsEmpty)
        {
            return ErrorEmpty;
        }

        int colon = text.IndexOf(':');
        if (colon <= 0 || !IsSchemeName(text[..colon]))
        {
            return ErrorNotAbsolute;
        }

        if (!text[..colon].Equals(NetTcpScheme, StringComparison.OrdinalIgnoreCase))
        {
            return ErrorScheme;
        }

        ReadOnlySpan<char> rest = text[(colon + 1)..];
        if (!rest.StartsWith("//"))
        {
            return ErrorNoAuthority;
        }

        rest = rest[2..];
        // '\' ends the authority as it does for System.Uri with hierarchical schemes.
        int authorityEnd = rest.IndexOfAny("/\\?#");
        ReadOnlySpan<char> authority = authorityEnd < 0 ? rest : rest[..authorityEnd];
        ReadOnlySpan<char> path = authorityEnd < 0 ? default : rest[authorityEnd..];
        if (!path.IsEmpty && path[0] is '/' or '\\')
        {
            int pathEnd = path.IndexOfAny('?', '#');
            if (pathEnd >= 0)
            {
                path = path[..pathEnd];
            }
        }
        else
        {
            // Only a query or fragment follows the authority: the path is the root.
            path = default;
        }

        string? error = SplitAuthority(authority, out ReadOnlySpan<char> host, out int port, out bool explicitPort);
        if (error is not null)
        {
            return error;
        }

        parts = new UriParts(host, port, explicitPort, path);
        return null;
    }

    private static string? SplitAuthority(
        ReadOnlySpan<char> authority, out ReadOnlySpan<char> host, out int port, out bool explicitPort)
    {
        host = default;
        port = DefaultPort;
        explicitPort = false;
        if (authority.Contains('@'))
        {
            return ErrorUserInfo;
        }

        ReadOnlySpan<char> portText;
        bool hasPortSeparator;
        if (!authority.IsEmpty && authority[0] == '[')
        {
            int close = authority.IndexOf(']');
            if (close < 0)
            {
                return ErrorIPv6Bracket;
            }

            host = authority[..(close + 1)];
            ReadOnlySpan<char> after = authority[(close + 1)..];
            if (!after.IsEmpty && after[0] != ':')
            {
                return ErrorPort;
            }

            hasPortSeparator = !after.IsEmpty;
            portText = hasPortSeparator ? after[1..] : default;
        }
        else
        {
            int colon = authority.IndexOf(':');
            hasPortSeparator = colon >= 0;
            host = hasPortSeparator ? authority[..colon] : authority;
            portText = hasPortSeparator ? authority[(colon + 1)..] : default;
        }

        if (host.IsEmpty)
        {
            return ErrorNoHost;
        }

        // "host:" with nothing after the colon means the default port, as System.Uri reads it.
        if (hasPortSeparator && !portText.IsEmpty)
        {
            if (!TryParsePort(portText, out port))
            {
                return ErrorPort;
            }

            explicitPort = true;
        }

        return null;
    }

    private static bool TryParsePort(ReadOnlySpan<char> text, out int port)
    {
        port = 0;
        if (text.Length > 5)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            port = (port * 10) + (c - '0');
        }

        return port <= 65535;
    }

    // RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). Lets "http://x" be told apart from "just text".
    private static bool IsSchemeName(ReadOnlySpan<char> scheme)
    {
        if (!char.IsAsciiLetter(scheme[0]))
        {
            return false;
        }

        foreach (char c in scheme)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
