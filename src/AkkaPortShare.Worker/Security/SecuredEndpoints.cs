using Akka.Configuration;
using Akka.Event;
using AkkaPortShare.Contracts.Configuration;

namespace AkkaPortShare.Worker.Security;

/// <summary>
/// Every served address's transport security (TLS or Windows credentials), read when the worker starts; a certificate
/// that cannot be read, or Windows credentials without what GSSAPI needs, fail the start.
/// </summary>
internal static class SecuredEndpoints
{
    /// <summary>
    /// The secured addresses and their upgrade (addresses without transport security are absent). What cannot be read is
    /// added to <paramref name="problems"/>, naming the file and the setting (the worker then exits with code 78).
    /// </summary>
    public static IReadOnlyDictionary<string, StreamUpgradeAcceptor> Create(Config config,
        IEnumerable<(string Address, EndpointSecurity Security)> endpoints, ILoggingAdapter log, List<string> problems)
    {
        var secured = new Dictionary<string, StreamUpgradeAcceptor>(StringComparer.Ordinal);
        var windows = new List<(string, TransportSecuritySettings)>();
        foreach (var (address, security) in endpoints)
        {
            try
            {
                if (security.SettingsPath is { } path)
                {
                    if (!config.HasPath(path))
                    {
                        problems.Add($"{address}: {path} (the endpoint's transport-security block) is not in the configuration; " +
                                     "expected a block with transport-security settings");
                        continue;
                    }
                }
                // Unknown keys of the endpoint's own block are among the problems this reports.
                var settings = TransportSecuritySettings.Create(config, security.SettingsPath);
                if ((security.Mode ?? settings.Mode) == TransportSecurityMode.Transport
                    && (security.ClientCredentialType ?? settings.ClientCredentialType) == TransportClientCredential.Windows)
                {
                    secured[address] = new NegotiateEndpoint(address, security.ProtectionLevel ?? settings.ProtectionLevel)
                    {
                        OpenTimeout = security.OpenTimeout,
                    };
                    windows.Add((address, settings));
                }
                else if (TlsEndpoint.Create(address, settings, security, log) is { } tls) secured[address] = tls;
            }
            catch (SettingsException e)
            {
                problems.AddRange(e.Problems);
            }
            catch (TransportSecurityException e)
            {
                problems.Add($"{address}: {e.Message}");
            }
        }
        WindowsAuthentication.Prepare(windows, problems);
        return secured;
    }
}
