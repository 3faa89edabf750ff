using AkkaPortShare.TestSupport.Configuration;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Worker.Configuration;
using AkkaPortShare.Worker.Hosting;
using AkkaPortShare.Worker.Security;

namespace AkkaPortShare.Worker.Tests.Hosting;

/// <summary>
/// Every key of <c>akka-port-share.worker</c> can be set from C# (<see cref="WorkerOptions.Settings"/>) and reads back
/// as set; the table must name every key of reference.conf, so a key added there without a way to set it fails here.
/// </summary>
public sealed class WorkerOptionsSpec
{
    private const string Tricky = "s3cr$t \"quoted\" \\ back\nnew ${line} # not a comment";

    // Each key, how to set it to a value that is not its default, and what the settings then hold.
    private static readonly (string Key, Action<HoconOverrides> Set, Func<WorkerSettings, object> Read, object Expected)[] Keys =
    [
        ("router", o => o.Set("router", "akka.tcp://other@127.0.0.1:9000"), s => s.Router, "akka.tcp://other@127.0.0.1:9000"),
        ("handover-directory", o => o.Set("handover-directory", "/run/a dir/$x"), s => s.HandoverDirectory, "/run/a dir/$x"),
        ("handover-directory-mode", o => o.Set("handover-directory-mode", "0750"), s => s.HandoverDirectoryMode, (UnixFileMode)0x1E8),
        ("handover-verify-timeout", o => o.Set("handover-verify-timeout", TimeSpan.FromSeconds(2)), s => s.HandoverVerifyTimeout, TimeSpan.FromSeconds(2)),
        ("max-unverified-handover-channels", o => o.Set("max-unverified-handover-channels", 3), s => s.MaxUnverifiedHandoverChannels, 3),
        ("allowed-router-users", o => o.Set("allowed-router-users", ["4242"]), s => string.Join(",", s.AllowedRouterUserIds), "4242"),
        ("data-endpoint.hostname", o => o.Set("data-endpoint.hostname", "::1"), s => s.DataHostname, "::1"),
        ("data-endpoint.port", o => o.Set("data-endpoint.port", 9555), s => s.DataPort, 9555),
        ("data-endpoint.tcp-max-segment-size", o => o.SetBytes("data-endpoint.tcp-max-segment-size", 4096), s => s.TcpMaxSegmentSize, 4096),
        ("data-endpoint.listen-backlog", o => o.Set("data-endpoint.listen-backlog", 64), s => s.DataListenBacklog, 64),
        ("receive-timeout", o => o.Set("receive-timeout", TimeSpan.FromSeconds(7)), s => s.ReceiveTimeout, TimeSpan.FromSeconds(7)),
        ("connection-idle-timeout", o => o.Set("connection-idle-timeout", TimeSpan.FromMinutes(1)), s => s.ConnectionIdleTimeout, TimeSpan.FromMinutes(1)),
        ("max-message-size", o => o.SetBytes("max-message-size", 1 << 20), s => s.MaxMessageSize, 1 << 20),
        ("max-via-size", o => o.Set("max-via-size", 4096), s => s.MaxViaSize, 4096),
        ("max-content-type-size", o => o.Set("max-content-type-size", 512), s => s.MaxContentTypeSize, 512),
        ("max-unsent-bytes", o => o.SetBytes("max-unsent-bytes", 1 << 20), s => s.MaxUnsentBytes, (long)(1 << 20)),
        ("max-unsent-bytes-total", o => o.SetBytes("max-unsent-bytes-total", 64 << 20), s => s.MaxUnsentBytesTotal, (long)(64 << 20)),
        ("max-connections", o => o.Set("max-connections", 10), s => s.MaxConnections, 10),
        ("max-messages-before-answer", o => o.Set("max-messages-before-answer", 8), s => s.MaxMessagesBeforeAnswer, 8),
        ("read-buffer-size", o => o.SetBytes("read-buffer-size", 16 * 1024), s => s.ReadBufferSize, 16 * 1024),
        ("fault-drain-limit", o => o.SetBytes("fault-drain-limit", 1024), s => s.FaultDrainLimit, 1024),
        ("fault-timeout", o => o.Set("fault-timeout", TimeSpan.FromSeconds(1)), s => s.FaultTimeout, TimeSpan.FromSeconds(1)),
        ("health-check-timeout", o => o.Set("health-check-timeout", TimeSpan.FromMilliseconds(750)), s => s.HealthCheckTimeout, TimeSpan.FromMilliseconds(750)),
        ("registration-secret", o => o.Set("registration-secret", Tricky), s => s.RegistrationSecret.IsSet && s.RegistrationSecret.Matches(Tricky), true),
        ("registration-retry.min-backoff", o => o.Set("registration-retry.min-backoff", TimeSpan.FromMilliseconds(100)), s => s.RetryMinBackoff, TimeSpan.FromMilliseconds(100)),
        ("registration-retry.max-backoff", o => o.Set("registration-retry.max-backoff", TimeSpan.FromSeconds(10)), s => s.RetryMaxBackoff, TimeSpan.FromSeconds(10)),
        ("start-timeout", o => o.Set("start-timeout", TimeSpan.Zero), s => s.StartTimeout, TimeSpan.Zero),
        ("exit-on-refusal", o => o.Set("exit-on-refusal", false), s => s.ExitOnRefusal, false),
        ("share-addresses", o => o.Set("share-addresses", true), s => s.ShareAddresses, true),
        ("load-report-interval", o => o.Set("load-report-interval", TimeSpan.FromSeconds(1)), s => s.LoadReportInterval, TimeSpan.FromSeconds(1)),
        ("session-forward-timeout", o => o.Set("session-forward-timeout", TimeSpan.FromSeconds(2)), s => s.SessionForwardTimeout, TimeSpan.FromSeconds(2)),
        ("drain-timeout", o => o.Set("drain-timeout", TimeSpan.FromSeconds(3)), s => s.DrainTimeout, TimeSpan.FromSeconds(3)),
    ];

    // The transport-security block's keys, read as an endpoint reads them.
    private static readonly (string Key, Action<HoconOverrides> Set, Func<TransportSecuritySettings, object> Read, object Expected)[] SecurityKeys =
    [
        ("transport-security.mode", o => o.Set("transport-security.mode", "transport"), s => s.Mode, TransportSecurityMode.Transport),
        ("transport-security.certificate-path", o => o.Set("transport-security.certificate-path", "/etc/a b/c.pfx"), s => s.CertificatePath, "/etc/a b/c.pfx"),
        ("transport-security.certificate-key-path", o => o.Set("transport-security.certificate-key-path", "/k.pem"), s => s.CertificateKeyPath, "/k.pem"),
        ("transport-security.certificate-password", o => o.Set("transport-security.certificate-password", Tricky), s => s.CertificatePassword, Tricky),
        ("transport-security.ssl-protocols", o => o.Set("transport-security.ssl-protocols", ["tls13"]), s => s.SslProtocols, System.Security.Authentication.SslProtocols.Tls13),
        ("transport-security.client-credential-type", o => o.Set("transport-security.client-credential-type", "certificate"), s => s.ClientCredentialType, TransportClientCredential.Certificate),
        ("transport-security.trust-store-path", o => o.Set("transport-security.trust-store-path", "/ca.pem"), s => s.TrustStorePath, "/ca.pem"),
        ("transport-security.allowed-client-thumbprints", o => o.Set("transport-security.allowed-client-thumbprints", ["ab:cd 01"]), s => string.Join(",", s.AllowedClientThumbprints), "ABCD01"),
        ("transport-security.check-certificate-revocation", o => o.Set("transport-security.check-certificate-revocation", true), s => s.CheckCertificateRevocation, true),
        ("transport-security.reload-on-change", o => o.Set("transport-security.reload-on-change", false), s => s.ReloadOnChange, false),
        ("transport-security.reload-check-interval", o => o.Set("transport-security.reload-check-interval", TimeSpan.FromSeconds(2)), s => s.ReloadCheckInterval, TimeSpan.FromSeconds(2)),
        ("transport-security.protection-level", o => o.Set("transport-security.protection-level", "sign"), s => s.ProtectionLevel, System.Net.Security.ProtectionLevel.Sign),
        ("transport-security.ntlm-user-file", o => o.Set("transport-security.ntlm-user-file", "/etc/a b/users"), s => s.NtlmUserFile, "/etc/a b/users"),
        ("transport-security.kerberos-keytab", o => o.Set("transport-security.kerberos-keytab", "/etc/krb5.keytab"), s => s.KerberosKeytab, "/etc/krb5.keytab"),
    ];

    private static WorkerSettings Read(WorkerOptions options) =>
        WorkerSettings.Create(ConfigurationFactory.ParseString(options.ToHocon()).WithFallback(WorkerSettings.DefaultConfig()));

    [Fact]
    public void WorkerOptions_must_set_every_key_of_reference_conf()
    {
        var reference = ReferenceKeys.Of(WorkerSettings.DefaultConfig(), WorkerSettings.ConfigPath);

        Assert.Equal(reference.Order(StringComparer.Ordinal),
            Keys.Select(k => k.Key).Concat(SecurityKeys.Select(k => k.Key)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void WorkerOptions_must_read_back_every_transport_security_key_set_from_csharp()
    {
        var defaults = TransportSecuritySettings.Create(Config.Empty);
        foreach (var (key, set, read, expected) in SecurityKeys)
        {
            var options = new WorkerOptions();
            set(options.Settings);
            var settings = TransportSecuritySettings.Create(ConfigurationFactory.ParseString(options.ToHocon()));

            Assert.True(!Equals(read(defaults), expected), $"{key}: the spec must set a value other than the default");
            Assert.True(Equals(read(settings), expected), $"{key}: read back {read(settings)}, expected {expected}");
        }
    }

    [Fact]
    public void WorkerOptions_must_read_back_every_key_set_from_csharp()
    {
        var defaults = WorkerSettings.Create(Config.Empty);
        foreach (var (key, set, read, expected) in Keys)
        {
            var options = new WorkerOptions();
            set(options.Settings);

            Assert.True(!Equals(read(defaults), expected), $"{key}: the spec must set a value other than the default");
            Assert.True(Equals(read(Read(options)), expected), $"{key}: read back {read(Read(options))}, expected {expected}");
        }
    }

    [Fact]
    public void WorkerOptions_must_quote_the_router_and_secret_properties_and_let_a_key_set_by_name_win()
    {
        var options = new WorkerOptions { Router = "akka.tcp://a@127.0.0.1:1", RegistrationSecret = Tricky };
        options.Settings.Set("router", "akka.tcp://b@127.0.0.1:2");

        var settings = Read(options);

        Assert.Equal("akka.tcp://b@127.0.0.1:2", settings.Router);
        Assert.True(settings.RegistrationSecret.Matches(Tricky));
    }
}
