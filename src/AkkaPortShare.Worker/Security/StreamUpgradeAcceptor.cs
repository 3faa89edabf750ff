using System.Net.Security;

namespace AkkaPortShare.Worker.Security;

/// <summary>
/// A secured session's stream and who the client proved to be: a client certificate (TLS) or an authenticated
/// Windows identity (Negotiate), or neither (TLS without client credentials).
/// </summary>
internal sealed record SecuredSession(AuthenticatedStream Stream, FramingSession.ClientCertificate? Client,
    FramingSession.ClientIdentity? Identity = null)
{
    /// <summary>For log lines: the protocol and the caller.</summary>
    public string Describe() => Stream switch
    {
        SslStream ssl => $"{ssl.SslProtocol}, client {Client?.Subject ?? "not authenticated"}",
        NegotiateStream => $"{Identity?.AuthenticationType} {Identity?.Name}, {(Stream.IsEncrypted ? "encrypted" : Stream.IsSigned ? "signed" : "not protected")}",
        _ => Stream.GetType().Name,
    };
}

/// <summary>
/// One endpoint's stream upgrade (WCF's StreamUpgradeAcceptor): the upgrade its clients ask for in the preamble
/// (application/ssl-tls or application/negotiate) and the server's side of the authentication that follows. Shared by
/// every connection to the endpoint and called from any thread.
/// </summary>
internal abstract class StreamUpgradeAcceptor
{
    /// <summary>The served base address (named in log lines).</summary>
    public abstract string Address { get; }

    /// <summary>The endpoint's OpenTimeout (WCF's name): bounds the upgrade and the rest of the preamble; null: receive-timeout.</summary>
    public TimeSpan? OpenTimeout { get; set; } // set once, when the worker starts, before any connection

    /// <summary>The content type of the UpgradeRequest this endpoint answers.</summary>
    public abstract string Upgrade { get; }

    /// <summary>What the authentication is called in log lines ("TLS handshake").</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Authenticates the client on <paramref name="inner"/>, which the returned stream leaves open when disposed.
    /// Failure: an exception whose message says why (e.g. the client's credentials refused).
    /// </summary>
    public abstract Task<SecuredSession> AuthenticateAsync(Stream inner, CancellationToken cancel);
}
