namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// The pieces of a net.tcp URI as slices of the original text, so that a via can be routed without copying it.
/// </summary>
internal readonly ref struct UriParts
{
    public UriParts(ReadOnlySpan<char> host, int port, bool hasExplicitPort, ReadOnlySpan<char> path)
    {
        Host = host;
        Port = port;
        HasExplicitPort = hasExplicitPort;
        Path = path;
    }

    /// <summary>Raw host token: <c>+</c>, <c>*</c>, a name, a dotted IPv4 literal or a bracketed IPv6 literal.</summary>
    public ReadOnlySpan<char> Host { get; }

    /// <summary>The explicit port, or 808 when the URI has none (Uri.AbsoluteUri drops the default port).</summary>
    public int Port { get; }

    public bool HasExplicitPort { get; }

    /// <summary>Everything from the first slash up to the query or fragment; may be empty.</summary>
    public ReadOnlySpan<char> Path { get; }
}
