using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AkkaPortShare.TestSupport.Security;

/// <summary>
/// Certificates made at test time, nothing from the machine's stores: a CA, a server certificate for
/// <c>localhost</c> and a client certificate it signed, and a client certificate of another CA (to be refused).
/// The server's is also written to files as an operator would deploy it (PFX with a password, PEM certificate and
/// key), with the CA as a PEM trust store; the directory goes with <see cref="Dispose"/>.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public const string PfxPassword = "aps-test-pfx";

    public X509Certificate2 Ca { get; }
    public X509Certificate2 Server { get; }
    public X509Certificate2 Client { get; }
    public X509Certificate2 RogueClient { get; }

    /// <summary>Another client of the test CA (for allow lists that name <see cref="Client"/> only).</summary>
    public X509Certificate2 OtherClient { get; }

    public string Directory { get; }
    public string ServerPfxPath => Path.Combine(Directory, "server.pfx");
    public string ServerPemPath => Path.Combine(Directory, "server.pem");
    public string ServerKeyPath => Path.Combine(Directory, "server.key");
    public string CaPemPath => Path.Combine(Directory, "ca.pem");

    public TestCertificates()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Ca = Authority("CN=AkkaPortShare Test CA", caKey);
        using var rogueKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rogueCa = Authority("CN=AkkaPortShare Rogue CA", rogueKey);

        Server = Issue(Ca, "CN=localhost", serverAuth: true);
        Client = Issue(Ca, "CN=aps-test-client, O=AkkaPortShare", serverAuth: false);
        RogueClient = Issue(rogueCa, "CN=aps-rogue-client", serverAuth: false);
        OtherClient = Issue(Ca, "CN=aps-other-client", serverAuth: false);

        Directory = Path.Combine(Path.GetTempPath(), $"aps-certs-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        File.WriteAllBytes(ServerPfxPath, Server.Export(X509ContentType.Pkcs12, PfxPassword));
        File.WriteAllText(ServerPemPath, Server.ExportCertificatePem() + "\n");
        File.WriteAllText(ServerKeyPath, Server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
        File.WriteAllText(CaPemPath, Ca.ExportCertificatePem() + "\n");
        if (!OperatingSystem.IsWindows())
            foreach (var file in new[] { ServerPfxPath, ServerKeyPath })
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static X509Certificate2 Authority(string subject, ECDsa key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return Reloaded(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30)));
    }

    /// <summary>
    /// A certificate of the test CA for an Akka.Remote node (each node is a TLS server and a TLS client, so it carries
    /// both purposes), written as a PFX (<see cref="PfxPassword"/>) into <see cref="Directory"/>; returns its path.
    /// </summary>
    public string WriteNodePfx(string name)
    {
        using var node = Issue(Ca, $"CN={name}", serverAuth: true, clientAuth: true);
        var path = Path.Combine(Directory, $"{name}.pfx");
        File.WriteAllBytes(path, node.Export(X509ContentType.Pkcs12, PfxPassword));
        return path;
    }

    private static X509Certificate2 Issue(X509Certificate2 issuer, string subject, bool serverAuth, bool clientAuth = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(clientAuth && serverAuth
            ? new OidCollection { new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2") }
            : new OidCollection { new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2") }, false));
        if (serverAuth)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(System.Net.IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(8);
        using var issued = request.Create(issuer, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        return Reloaded(issued.CopyWithPrivateKey(key));
    }

    // Through PKCS#12, so the key is a regular one every platform's TLS can use (not the ephemeral object).
    private static X509Certificate2 Reloaded(X509Certificate2 certificate)
    {
        using (certificate)
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        Client.Dispose();
        RogueClient.Dispose();
        OtherClient.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
