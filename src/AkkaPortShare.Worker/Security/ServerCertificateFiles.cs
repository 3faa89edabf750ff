using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Net.Security;

namespace AkkaPortShare.Worker.Security;

/// <summary>A certificate or trust file that cannot be used; the message names the file and the setting.</summary>
internal sealed class TransportSecurityException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Reads the server certificate (PFX/PKCS#12, or PEM with its key in the same file or in certificate-key-path) with
/// any intermediate certificates it carries, and a PEM bundle of trusted authorities.
/// </summary>
internal static class ServerCertificateFiles
{
    public static SslStreamCertificateContext LoadServerCertificate(TransportSecuritySettings s)
    {
        var setting = $"{s.Path}.certificate-path";
        if (string.IsNullOrEmpty(s.CertificatePath))
            throw new TransportSecurityException($"{setting} is empty; mode = transport needs the server certificate (PFX or PEM)");
        X509Certificate2 leaf;
        var extra = new X509Certificate2Collection();
        try
        {
            if (IsPem(s.CertificatePath))
            {
                var keyPath = string.IsNullOrEmpty(s.CertificateKeyPath) ? null : s.CertificateKeyPath;
                leaf = string.IsNullOrEmpty(s.CertificatePassword)
                    ? X509Certificate2.CreateFromPemFile(s.CertificatePath, keyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(s.CertificatePath, s.CertificatePassword, keyPath);
                var all = new X509Certificate2Collection();
                all.ImportFromPemFile(s.CertificatePath);
                foreach (var c in all)
                    if (c.Thumbprint != leaf.Thumbprint) extra.Add(c);
            }
            else
            {
                var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(s.CertificatePath, s.CertificatePassword,
                    X509KeyStorageFlags.EphemeralKeySet);
                leaf = all.FirstOrDefault(c => c.HasPrivateKey)
                       ?? throw new TransportSecurityException($"{setting}: {s.CertificatePath} holds no certificate with a private key");
                foreach (var c in all)
                    if (!ReferenceEquals(c, leaf)) extra.Add(c);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new TransportSecurityException($"{setting}: cannot read the server certificate {s.CertificatePath}" +
                (string.IsNullOrEmpty(s.CertificateKeyPath) ? "" : $" (key {s.CertificateKeyPath}, {s.Path}.certificate-key-path)") +
                $": {e.Message.TrimEnd('.')}", e);
        }
        if (!leaf.HasPrivateKey)
            throw new TransportSecurityException($"{setting}: {s.CertificatePath} has no private key; set {s.Path}.certificate-key-path");
        return SslStreamCertificateContext.Create(leaf, extra, offline: true);
    }

    public static X509Certificate2Collection LoadTrustStore(TransportSecuritySettings s)
    {
        var trust = new X509Certificate2Collection();
        try
        {
            trust.ImportFromPemFile(s.TrustStorePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new TransportSecurityException($"{s.Path}.trust-store-path: cannot read the trusted authorities {s.TrustStorePath}: {e.Message.TrimEnd('.')}", e);
        }
        if (trust.Count == 0)
            throw new TransportSecurityException($"{s.Path}.trust-store-path: {s.TrustStorePath} holds no PEM certificate");
        return trust;
    }

    /// <summary>Files whose change means a reload (their last write times).</summary>
    public static IEnumerable<string> Watched(TransportSecuritySettings s) =>
        new[] { s.CertificatePath, s.CertificateKeyPath, s.TrustStorePath }.Where(p => !string.IsNullOrEmpty(p));

    /// <summary>Whether the key's file lets other users read it (the key should be the worker's alone).</summary>
    public static bool ReadableByOthers(string path) =>
        !OperatingSystem.IsWindows() && File.Exists(path)
        && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0;

    private static bool IsPem(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> start = stackalloc byte[64];
        var n = file.Read(start);
        return System.Text.Encoding.ASCII.GetString(start[..n]).TrimStart().StartsWith("-----BEGIN", StringComparison.Ordinal);
    }
}
