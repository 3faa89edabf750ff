using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace AkkaPortShare.Worker.Security;

/// <summary>
/// How one served address is secured, as its code says: the HOCON block of its own (null: the worker's
/// <c>transport-security</c> block) and values set in C#, which win over HOCON. The C# layer (NetTcpEndpointOptions)
/// fills it with WCF's names; the worker reads it when it starts.
/// </summary>
internal sealed record EndpointSecurity
{
    public string? SettingsPath { get; init; }
    public TransportSecurityMode? Mode { get; init; }
    public TransportClientCredential? ClientCredentialType { get; init; }
    public SslProtocols? SslProtocols { get; init; }

    /// <summary>Windows credentials' protection level (WCF's Security.Transport.ProtectionLevel).</summary>
    public System.Net.Security.ProtectionLevel? ProtectionLevel { get; init; }

    /// <summary>The server certificate with its private key (instead of certificate-path; not reloaded).</summary>
    public X509Certificate2? ServerCertificate { get; init; }

    /// <summary>Client certificates must chain to one of these (instead of trust-store-path).</summary>
    public X509Certificate2Collection? TrustedClientAuthorities { get; init; }

    /// <summary>Instead of allowed-client-thumbprints.</summary>
    public IReadOnlyCollection<string>? AllowedClientThumbprints { get; init; }

    /// <summary>
    /// WCF's OpenTimeout for this endpoint: how long the stream upgrade (TLS handshake or Windows authentication) and
    /// the rest of the preamble may take (null: the worker's receive-timeout, which bounds every preamble).
    /// </summary>
    public TimeSpan? OpenTimeout { get; init; }

    public static readonly EndpointSecurity FromConfiguration = new();
}
