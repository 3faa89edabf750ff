using System.Security.Authentication;
using System.ServiceModel;
using AkkaPortShare.Worker.Security;

namespace AkkaPortShare.ServiceModel.Hosting;

/// <summary>An endpoint's <see cref="NetTcpEndpointOptions"/> security, as the worker takes it (WCF's names to the worker's).</summary>
internal static class EndpointTransportSecurity
{
    // WCF's TcpTransportSecurity default (TLS 1.0-1.2): not a choice the service made, so HOCON's ssl-protocols stand.
#pragma warning disable SYSLIB0039
    private const SslProtocols WcfDefaultProtocols = SslProtocols.Tls | SslProtocols.Tls11 | SslProtocols.Tls12;
#pragma warning restore SYSLIB0039

    /// <summary>What the worker needs, or null when the options say nothing about security (HOCON decides).</summary>
    public static EndpointSecurity? Of(NetTcpEndpointOptions? options)
    {
        if (options is null || options.Security is null && options.ServiceCertificate is null && options.ClientCertificateAuthorities is null
            && options.AllowedClientCertificateThumbprints is null && options.TransportSecurityPath is null && options.OpenTimeout is null)
            return null;
        var security = options.Security;
        var protocols = security?.Transport.SslProtocols;
        return new EndpointSecurity
        {
            SettingsPath = options.TransportSecurityPath,
            Mode = security?.Mode switch
            {
                null => null,
                SecurityMode.None => TransportSecurityMode.None,
                _ => TransportSecurityMode.Transport,
            },
            ClientCredentialType = security?.Transport.ClientCredentialType switch
            {
                null => null,
                TcpClientCredentialType.Certificate => TransportClientCredential.Certificate,
                TcpClientCredentialType.Windows => TransportClientCredential.Windows,
                _ => TransportClientCredential.None,
            },
            ProtectionLevel = security?.Transport.ProtectionLevel,
            SslProtocols = protocols is null || protocols == WcfDefaultProtocols ? null : protocols & (SslProtocols.Tls12 | SslProtocols.Tls13),
            ServerCertificate = options.ServiceCertificate,
            TrustedClientAuthorities = options.ClientCertificateAuthorities,
            AllowedClientThumbprints = options.AllowedClientCertificateThumbprints?.ToList(),
            OpenTimeout = options.OpenTimeout,
        };
    }

    /// <summary>What WCF allows in <see cref="NetTcpEndpointOptions.Security"/> and the worker does not serve (yet).</summary>
    public static IEnumerable<string> Problems(string baseAddress, NetTcpEndpointOptions options)
    {
        if (options.Security is not { } security) yield break;
        if (security.Mode is SecurityMode.Message or SecurityMode.TransportWithMessageCredential)
            yield return $"{baseAddress}: Security.Mode = {security.Mode}; expected None or Transport (message security is not served)";
        var protocols = security.Transport.SslProtocols;
        if (security.Mode == SecurityMode.Transport && protocols != WcfDefaultProtocols && (protocols & (SslProtocols.Tls12 | SslProtocols.Tls13)) == 0)
            yield return $"{baseAddress}: Security.Transport.SslProtocols = {protocols}; expected Tls12 and/or Tls13";
        // Windows credentials serve EncryptAndSign, Sign and None (NegotiateStream); TLS always encrypts.
        if (security.Mode == SecurityMode.Transport && security.Transport.ClientCredentialType != TcpClientCredentialType.Windows
            && security.Transport.ProtectionLevel != System.Net.Security.ProtectionLevel.EncryptAndSign)
            yield return $"{baseAddress}: Security.Transport.ProtectionLevel = {security.Transport.ProtectionLevel}; TLS serves EncryptAndSign only";
    }
}
