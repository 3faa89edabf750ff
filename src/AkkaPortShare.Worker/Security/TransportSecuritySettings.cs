using System.Security.Authentication;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Worker.Configuration;

namespace AkkaPortShare.Worker.Security;

/// <summary>WCF's SecurityMode, as far as the worker serves it: None, or Transport (TLS or Windows credentials).</summary>
internal enum TransportSecurityMode { None, Transport }

/// <summary>
/// WCF's TcpClientCredentialType: None (TLS, server authentication only), Certificate (mutual TLS) or Windows
/// (application/negotiate: NegotiateStream, NTLM or Kerberos through GSSAPI).
/// </summary>
internal enum TransportClientCredential { None, Certificate, Windows }

/// <summary>
/// One endpoint's transport security, read from <c>akka-port-share.worker.transport-security</c> (every default in the
/// worker's reference.conf), or from the endpoint's own block falling back to it. Files are named here and read by
/// <see cref="TlsEndpoint"/>.
/// </summary>
internal sealed record TransportSecuritySettings
{
    public const string ConfigPath = WorkerSettings.ConfigPath + ".transport-security";

    public required TransportSecurityMode Mode { get; init; }
    public required string CertificatePath { get; init; }
    public required string CertificateKeyPath { get; init; }
    public required string CertificatePassword { get; init; }
    public required SslProtocols SslProtocols { get; init; }
    public required TransportClientCredential ClientCredentialType { get; init; }
    public required string TrustStorePath { get; init; }

    /// <summary>SHA-1 thumbprints (upper-case hex, WCF's X509Certificate2.Thumbprint); empty: any chained certificate.</summary>
    public required IReadOnlySet<string> AllowedClientThumbprints { get; init; }
    public required bool CheckCertificateRevocation { get; init; }
    public required bool ReloadOnChange { get; init; }

    /// <summary>Windows credentials only (TLS always encrypts and signs).</summary>
    public required System.Net.Security.ProtectionLevel ProtectionLevel { get; init; }

    /// <summary>gss-ntlmssp's NTLM_USER_FILE (process-wide); empty: the environment's.</summary>
    public required string NtlmUserFile { get; init; }

    /// <summary>KRB5_KTNAME (process-wide); empty: the environment's, or none.</summary>
    public required string KerberosKeytab { get; init; }
    public required TimeSpan ReloadCheckInterval { get; init; }

    /// <summary>The HOCON block these were read from (named in log lines and problems).</summary>
    public required string Path { get; init; }

    private TransportSecuritySettings() { }

    /// <summary>
    /// Reads the worker's block, or <paramref name="endpointPath"/> falling back to it; every problem at once in a
    /// <see cref="SettingsException"/>.
    /// </summary>
    public static TransportSecuritySettings Create(Config root, string? endpointPath = null)
    {
        var c = endpointPath is null
            ? new SettingsReader(root, WorkerSettings.DefaultConfig(), ConfigPath)
            : new SettingsReader(root, WorkerSettings.DefaultConfig(), endpointPath, overrides: ConfigPath);
        var protocols = SslProtocols.None;
        foreach (var name in c.StringList("ssl-protocols"))
        {
            switch (name.Trim().ToLowerInvariant())
            {
                case "tls12": protocols |= SslProtocols.Tls12; break;
                case "tls13": protocols |= SslProtocols.Tls13; break;
                default: c.Problem("ssl-protocols", $"\"{name}\" is not a TLS version served; expected tls12 and/or tls13"); break;
            }
        }
        var settings = new TransportSecuritySettings
        {
            Mode = c.Enum<TransportSecurityMode>("mode"),
            CertificatePath = c.String("certificate-path"),
            CertificateKeyPath = c.String("certificate-key-path"),
            CertificatePassword = c.String("certificate-password"),
            SslProtocols = protocols,
            ClientCredentialType = c.Enum<TransportClientCredential>("client-credential-type"),
            TrustStorePath = c.String("trust-store-path"),
            AllowedClientThumbprints = c.StringList("allowed-client-thumbprints")
                .Select(NormaliseThumbprint).ToHashSet(StringComparer.Ordinal),
            CheckCertificateRevocation = c.Bool("check-certificate-revocation"),
            ReloadOnChange = c.Bool("reload-on-change"),
            ProtectionLevel = c.OneOf("protection-level", "encrypt-and-sign", "sign", "none") switch
            {
                "sign" => System.Net.Security.ProtectionLevel.Sign,
                "none" => System.Net.Security.ProtectionLevel.None,
                _ => System.Net.Security.ProtectionLevel.EncryptAndSign,
            },
            NtlmUserFile = c.String("ntlm-user-file"),
            KerberosKeytab = c.String("kerberos-keytab"),
            ReloadCheckInterval = c.Duration("reload-check-interval"),
            Path = c.Path,
        };
        if (protocols == SslProtocols.None) c.Problem("ssl-protocols", "is empty; expected tls12 and/or tls13");
        c.ThrowIfInvalid();
        return settings;
    }

    // Thumbprints are copied from tools that print them with spaces, colons or in lower case.
    public static string NormaliseThumbprint(string thumbprint) =>
        new string(thumbprint.Where(char.IsAsciiHexDigit).ToArray()).ToUpperInvariant();
}
