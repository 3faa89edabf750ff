using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>
/// Akka.Remote's TLS with real certificate validation (suppress-validation = false, and Akka.Remote 1.5.74's
/// default require-mutual-authentication = true): certificates made here, a test CA that signs the router's and a
/// worker's; each process trusts only that CA (SSL_CERT_FILE, which .NET on Linux reads for its trusted roots).
/// The server side (router) validates the client's certificate chain, the client side (worker) the server's.
/// </summary>
public sealed class MutualTlsSpec(ITestOutputHelper output) : IDisposable
{
    private const string Password = "test-pfx";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("aps-mtls-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task A_worker_with_a_certificate_from_the_trusted_CA_is_served_and_untrusted_ones_cannot_associate()
    {
        using var caKey = RSA.Create(2048);
        using var ca = CreateCa(caKey);
        var caPem = Write("ca.pem", ca.ExportCertificatePem());
        var routerPfx = Write("router.pfx", Issue(ca, caKey, "CN=aps-router"));
        var workerPfx = Write("worker.pfx", Issue(ca, caKey, "CN=aps-worker"));
        var roguePfx = Write("rogue.pfx", SelfSigned("CN=aps-worker")); // same name, not from the CA
        // Only the test CA is trusted: an empty directory instead of the system's.
        var trustCa = new Dictionary<string, string>
        {
            ["SSL_CERT_FILE"] = caPem, ["SSL_CERT_DIR"] = _directory.CreateSubdirectory("no-system-roots").FullName,
        };

        using var host = new PortShareHost();
        await host.StartRouterAsync(extraHocon: Tls(routerPfx), environment: trustCa);
        var sslRouter = host.RouterAddress.Replace("akka.tcp://", "akka.ssl.tcp://");

        // The CA's worker: registers (its hand-over socket is checked as usual; no secret needed on this host) and serves.
        await host.WorkerWithTls("trusted", workerPfx, "t/", sslRouter, trustCa).WaitForLineAsync(
            $"Registered {PortShareHost.Regex(host.Address("t/"))} with the router", Timeout);
        using (var client = await FramingClient.ConnectAsync(host.Port))
        {
            Assert.Null(await client.OpenAsync(host.Via("t/svc")));
            Assert.Equal("trusted", await client.CallAsync("whoami"));
        }

        // A self-signed client certificate: the router refuses the handshake (client certificate chain).
        var before = host.Router!.LineCount;
        using var rogue = host.WorkerWithTls("rogue", roguePfx, "r/", sslRouter, trustCa);
        var refused = await host.Router.WaitForLineAsync("Certificate chain validation failed|TLS handshake failure", Timeout, before);
        output.WriteLine($"router: {refused}");

        // A worker that does not trust the CA: it refuses the router's certificate (server certificate chain).
        var systemRootsOnly = new Dictionary<string, string>();
        using var distrusting = host.WorkerWithTls("distrusting", workerPfx, "d/", sslRouter, systemRootsOnly);
        var distrusted = await distrusting.WaitForLineAsync("TLS handshake failed|validation failed", Timeout);
        output.WriteLine($"worker that does not trust the CA: {distrusted}");

        Assert.Equal(0, rogue.CountLines("Registered .* with the router"));
        Assert.Equal(0, distrusting.CountLines("Registered .* with the router"));
        foreach (var path in new[] { "r/svc", "d/svc" })
        {
            using var client = await FramingClient.ConnectAsync(host.Port);
            Assert.Equal(FramingFaults.EndpointNotFound, await client.OpenAsync(host.Via(path)));
        }
    }

    private static string Tls(string pfx) => $$"""
        akka.remote.dot-netty.tcp {
          enable-ssl = true
          ssl {
            suppress-validation = false
            require-mutual-authentication = true
            certificate { path = "{{pfx}}", password = "{{Password}}" }
          }
        }
        """;

    private static X509Certificate2 CreateCa(RSA key)
    {
        var request = new CertificateRequest("CN=aps-test-ca", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
    }

    // Each Akka.Remote node is a TLS server and a TLS client, so the certificates carry both purposes.
    private static CertificateRequest LeafRequest(string subject, RSA key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request;
    }

    private static byte[] Issue(X509Certificate2 ca, RSA caKey, string subject)
    {
        using var key = RSA.Create(2048);
        var request = LeafRequest(subject, key);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        using var issued = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForRSA(caKey, RSASignaturePadding.Pkcs1),
            DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        return withKey.Export(X509ContentType.Pfx, Password);
    }

    private static byte[] SelfSigned(string subject)
    {
        using var key = RSA.Create(2048);
        using var certificate = LeafRequest(subject, key).CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
        return certificate.Export(X509ContentType.Pfx, Password);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }
}

internal static class TlsWorkers
{
    /// <summary>Starts an echo worker for one path with Akka.Remote TLS and the given certificate; does not wait.</summary>
    public static ManagedProcess WorkerWithTls(this PortShareHost host, string identity, string pfx, string path,
        string sslRouter, IReadOnlyDictionary<string, string> environment)
    {
        var config = host.WriteConfig($$"""
            akka.remote.dot-netty.tcp {
              enable-ssl = true
              ssl {
                suppress-validation = false
                require-mutual-authentication = true
                certificate { path = "{{pfx}}", password = "test-pfx" }
              }
            }
            """);
        return host.StartWorkerAs(identity, null, ["--address", host.Address(path), "--config", config, "--router", sslRouter], environment);
    }
}
