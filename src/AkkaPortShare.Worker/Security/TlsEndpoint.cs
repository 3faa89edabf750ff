using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;

namespace AkkaPortShare.Worker.Security;

/// <summary>The handshake failed; the message says why (the client's certificate refused, or TLS itself).</summary>
internal sealed class TlsHandshakeException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The TLS side of one endpoint (WCF's SslStreamSecurityUpgradeAcceptor): its certificate and trust, shared by every
/// connection to the endpoint and read from any thread. Certificates from files are checked for changes at most once
/// per reload-check-interval, when a handshake starts; a change that does not load is logged and the previous
/// certificate kept, so a half-copied file never takes an endpoint down.
/// </summary>
internal sealed class TlsEndpoint : StreamUpgradeAcceptor
{
    public const string SslTlsUpgrade = "application/ssl-tls";

    private sealed record Material(SslStreamCertificateContext Certificate, X509Certificate2Collection? Trust,
        IReadOnlyList<DateTime> Stamps);

    private readonly TransportSecuritySettings _settings;
    private readonly EndpointSecurity _code;
    private readonly ILoggingAdapter _log;
    private readonly bool _fromFiles;
    private volatile Material _material; // replaced whole on reload, read by any handshake
    private long _nextCheck;    // Environment.TickCount64 of the next look at the files

    public override string Address { get; }
    public override string Upgrade => SslTlsUpgrade;
    public override string Name => "TLS handshake";
    public bool RequiresClientCertificate { get; }
    public SslProtocols Protocols { get; }
    public IReadOnlySet<string> AllowedClientThumbprints { get; }

    /// <summary>The certificate new handshakes present now.</summary>
    internal System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate => _material.Certificate.TargetCertificate;

    private TlsEndpoint(string address, TransportSecuritySettings settings, EndpointSecurity code, ILoggingAdapter log)
    {
        Address = address;
        _settings = settings;
        _code = code;
        _log = log;
        _fromFiles = code.ServerCertificate is null;
        RequiresClientCertificate = (code.ClientCredentialType ?? settings.ClientCredentialType) == TransportClientCredential.Certificate;
        Protocols = code.SslProtocols ?? settings.SslProtocols;
        AllowedClientThumbprints = code.AllowedClientThumbprints is { } thumbprints
            ? thumbprints.Select(TransportSecuritySettings.NormaliseThumbprint).ToHashSet(StringComparer.Ordinal)
            : settings.AllowedClientThumbprints;
        _material = Load();
        _nextCheck = Environment.TickCount64 + (long)settings.ReloadCheckInterval.TotalMilliseconds;
    }

    /// <summary>
    /// The endpoint's TLS, or null when it is not secured (mode none). Throws <see cref="TransportSecurityException"/>
    /// naming the file and the setting when its certificate or trust store cannot be read.
    /// </summary>
    public static TlsEndpoint? Create(string address, TransportSecuritySettings settings, EndpointSecurity code, ILoggingAdapter log)
    {
        if ((code.Mode ?? settings.Mode) != TransportSecurityMode.Transport) return null;
        var endpoint = new TlsEndpoint(address, settings, code, log) { OpenTimeout = code.OpenTimeout };
        if (endpoint._fromFiles)
        {
            var key = string.IsNullOrEmpty(settings.CertificateKeyPath) ? settings.CertificatePath : settings.CertificateKeyPath;
            if (ServerCertificateFiles.ReadableByOthers(key))
                log.Warning("The private key of {0} ({1}) can be read by users other than the worker's; chmod 600 it", address, key);
        }
        return endpoint;
    }

    /// <summary>Runs the server handshake on <paramref name="inner"/>; the returned stream leaves it open when disposed.</summary>
    public override async Task<SecuredSession> AuthenticateAsync(Stream inner, CancellationToken cancel)
    {
        ReloadIfChanged();
        var material = _material;
        string? refusal = null;
        FramingSession.ClientCertificate? client = null;
        var ssl = new SslStream(inner, leaveInnerStreamOpen: true);
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = material.Certificate,
            EnabledSslProtocols = Protocols,
            ClientCertificateRequired = RequiresClientCertificate,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck, // checked below, against the configured trust
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (!RequiresClientCertificate) return true;
                if (certificate is null)
                {
                    refusal = "the client sent no certificate (client-credential-type = certificate)";
                    return false;
                }
                var cert = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                refusal = Refusal(cert, material.Trust);
                if (refusal is null) client = new FramingSession.ClientCertificate(cert.Subject, cert.Thumbprint);
                return refusal is null;
            },
        };
        try
        {
            await ssl.AuthenticateAsServerAsync(options, cancel).ConfigureAwait(false);
            return new SecuredSession(ssl, client);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException or ObjectDisposedException
                                      or System.ComponentModel.Win32Exception)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new TlsHandshakeException(refusal ?? e.Message, e);
        }
    }

    /// <summary>Why a client certificate is refused, or null: it must chain to the trust store and be on the allow list.</summary>
    internal string? Refusal(X509Certificate2 certificate, X509Certificate2Collection? trust)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = _settings.CheckCertificateRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck;
        if (trust is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(trust);
        }
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2")); // client authentication
        if (!chain.Build(certificate))
        {
            var status = string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct());
            return $"the client certificate {certificate.Subject} ({certificate.Thumbprint}) does not chain to " +
                   $"{(trust is null ? "the system's trusted authorities" : "trust-store-path")}: {status}";
        }
        if (AllowedClientThumbprints.Count > 0 && !AllowedClientThumbprints.Contains(certificate.Thumbprint))
            return $"the client certificate {certificate.Subject} ({certificate.Thumbprint}) is not in allowed-client-thumbprints";
        return null;
    }

    private Material Load()
    {
        if (!_fromFiles)
            return new Material(SslStreamCertificateContext.Create(_code.ServerCertificate!, null, offline: true),
                _code.TrustedClientAuthorities ?? TrustFromFile(), []);
        var stamps = ServerCertificateFiles.Watched(_settings).Select(File.GetLastWriteTimeUtc).ToList();
        return new Material(ServerCertificateFiles.LoadServerCertificate(_settings),
            _code.TrustedClientAuthorities ?? TrustFromFile(), stamps);
    }

    private X509Certificate2Collection? TrustFromFile() =>
        RequiresClientCertificate && !string.IsNullOrEmpty(_settings.TrustStorePath) ? ServerCertificateFiles.LoadTrustStore(_settings) : null;

    internal void ReloadIfChanged()
    {
        if (!_fromFiles || !_settings.ReloadOnChange) return;
        var now = Environment.TickCount64;
        var next = Interlocked.Read(ref _nextCheck);
        if (now < next || Interlocked.CompareExchange(ref _nextCheck, now + (long)_settings.ReloadCheckInterval.TotalMilliseconds, next) != next)
            return; // not yet, or another handshake is looking
        var stamps = ServerCertificateFiles.Watched(_settings).Select(File.GetLastWriteTimeUtc).ToList();
        if (stamps.SequenceEqual(_material.Stamps)) return;
        try
        {
            _material = Load();
            _log.Info("Reloaded the certificate of {0} from {1} (reload-on-change)", Address, _settings.CertificatePath);
        }
        catch (TransportSecurityException e)
        {
            _log.Warning("The certificate of {0} changed but does not load; the previous one is kept: {1}", Address, e.Message);
        }
    }
}
