using Akka.Configuration;
using Akka.Event;
using AkkaPortShare.TestSupport.Security;
using AkkaPortShare.Worker.Security;

namespace AkkaPortShare.Worker.Tests.Security;

/// <summary>
/// An endpoint's TLS as an operator configures it: the server certificate from PFX or PEM files, problems that name
/// the file and the setting, client certificates judged by trust store and allow list, and reload on change.
/// </summary>
public sealed class TlsEndpointSpec : IDisposable
{
    private const string Address = "net.tcp://+:8808/secure/";
    private readonly TestCertificates _certs = new();
    private readonly ILoggingAdapter _log = NoLogger.Instance;

    public void Dispose() => _certs.Dispose();

    private static TransportSecuritySettings Settings(string hocon) =>
        TransportSecuritySettings.Create(ConfigurationFactory.ParseString($"akka-port-share.worker.transport-security {{ {hocon} }}"));

    private TlsEndpoint Create(string hocon) =>
        TlsEndpoint.Create(Address, Settings("mode = transport\n" + hocon), EndpointSecurity.FromConfiguration, _log)!;

    [Fact]
    public void TlsEndpoint_must_be_absent_when_the_mode_is_none() =>
        Assert.Null(TlsEndpoint.Create(Address, Settings(""), EndpointSecurity.FromConfiguration, _log));

    [Fact]
    public void TlsEndpoint_must_read_a_PFX_with_its_password_and_a_PEM_certificate_with_its_key()
    {
        var pfx = Create($"certificate-path = \"{_certs.ServerPfxPath}\", certificate-password = \"{TestCertificates.PfxPassword}\"");
        var pem = Create($"certificate-path = \"{_certs.ServerPemPath}\", certificate-key-path = \"{_certs.ServerKeyPath}\"");

        Assert.Equal(_certs.Server.Thumbprint, pfx.Certificate.Thumbprint);
        Assert.Equal(_certs.Server.Thumbprint, pem.Certificate.Thumbprint);
        Assert.True(pem.Certificate.HasPrivateKey);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("wrong-password")]
    [InlineData("no-key")]
    [InlineData("empty")]
    public void TlsEndpoint_must_refuse_a_certificate_it_cannot_use_naming_the_file_and_the_setting(string problem)
    {
        var hocon = problem switch
        {
            "missing" => "certificate-path = \"/nonexistent/server.pfx\"",
            "wrong-password" => $"certificate-path = \"{_certs.ServerPfxPath}\", certificate-password = wrong",
            "no-key" => $"certificate-path = \"{_certs.ServerPemPath}\"",
            _ => "",
        };

        var e = Assert.Throws<TransportSecurityException>(() => Create(hocon));

        Assert.Contains("akka-port-share.worker.transport-security.certificate-path", e.Message);
        if (problem != "empty") Assert.Contains(problem == "missing" ? "/nonexistent/server.pfx" : _certs.Directory, e.Message);
    }

    [Fact]
    public void TlsEndpoints_must_report_each_unusable_certificate_as_a_problem_of_its_address()
    {
        var config = ConfigurationFactory.ParseString("""
            akka-port-share.worker.transport-security { mode = transport, certificate-path = "/nonexistent/a.pem" }
            secure-b { certificate-path = "/nonexistent/b.pem" }
            secure-d { mode = none, certficate-password = x }
            """);
        var problems = new List<string>();

        var endpoints = SecuredEndpoints.Create(config,
            [("net.tcp://+:1/a/", EndpointSecurity.FromConfiguration), ("net.tcp://+:1/b/", new EndpointSecurity { SettingsPath = "secure-b" }),
             ("net.tcp://+:1/c/", new EndpointSecurity { Mode = TransportSecurityMode.None }),
             ("net.tcp://+:1/d/", new EndpointSecurity { SettingsPath = "secure-d" })], _log, problems);

        Assert.Empty(endpoints);
        Assert.Contains(problems, p => p.StartsWith("net.tcp://+:1/a/: akka-port-share.worker.transport-security.certificate-path") && p.Contains("/nonexistent/a.pem"));
        Assert.Contains(problems, p => p.StartsWith("net.tcp://+:1/b/: secure-b.certificate-path") && p.Contains("/nonexistent/b.pem"));
        Assert.Contains(problems, p => p.Contains("secure-d.certficate-password is not a setting; did you mean certificate-password?"));
        Assert.Equal(3, problems.Count);
    }

    [Fact]
    public void TlsEndpoint_must_accept_client_certificates_of_the_trust_store_only_and_apply_the_allow_list()
    {
        var trust = $"certificate-path = \"{_certs.ServerPfxPath}\", certificate-password = \"{TestCertificates.PfxPassword}\"\n" +
                    $"client-credential-type = certificate, trust-store-path = \"{_certs.CaPemPath}\"";
        var any = Create(trust);
        var listed = Create(trust + $"\nallowed-client-thumbprints = [ \"{_certs.Client.Thumbprint.ToLowerInvariant()}\" ]");
        var other = Create(trust + "\nallowed-client-thumbprints = [ \"00112233445566778899AABBCCDDEEFF00112233\" ]");
        var ca = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection(_certs.Ca);

        Assert.Null(any.Refusal(_certs.Client, ca));
        Assert.Contains("does not chain to trust-store-path", any.Refusal(_certs.RogueClient, ca));
        Assert.Null(listed.Refusal(_certs.Client, ca));
        Assert.Contains("is not in allowed-client-thumbprints", other.Refusal(_certs.Client, ca));
    }

    [Fact]
    public void TlsEndpoint_must_present_a_changed_certificate_file_and_keep_the_previous_one_when_the_new_does_not_load()
    {
        var path = Path.Combine(_certs.Directory, "reloaded.pfx");
        File.Copy(_certs.ServerPfxPath, path);
        var endpoint = Create($"certificate-path = \"{path}\", certificate-password = \"{TestCertificates.PfxPassword}\", reload-check-interval = 1ms");

        using var next = new TestCertificates();
        File.Copy(next.ServerPfxPath, path, overwrite: true);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        Thread.Sleep(5);
        endpoint.ReloadIfChanged();
        Assert.Equal(next.Server.Thumbprint, endpoint.Certificate.Thumbprint);

        File.WriteAllText(path, "half-copied");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(2));
        Thread.Sleep(5);
        endpoint.ReloadIfChanged();
        Assert.Equal(next.Server.Thumbprint, endpoint.Certificate.Thumbprint);
    }
}
