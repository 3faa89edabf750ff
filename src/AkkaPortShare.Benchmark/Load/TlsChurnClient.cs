using System.IdentityModel.Selectors;
using System.IdentityModel.Tokens;
using System.Security.Cryptography.X509Certificates;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.ServiceModel.Security;

namespace AkkaPortShare.Benchmark.Load;

/// <summary>The sample's IEchoService.Echo as a task (same contract name and namespace, so the action matches).</summary>
[ServiceContract(Namespace = "urn:akkaportshare:samples", Name = "IEchoService")]
public interface IBenchTlsEcho
{
    [OperationContract]
    Task<string> EchoAsync(string text);
}

/// <summary>
/// The churn loop's connection under --tls: the real WCF client with NetTcpBinding(SecurityMode.Transport) and
/// ClientCredentialType None, one new TCP connection, upgrade and TLS handshake per channel (the connection pool is
/// off, or Close would hand the upgraded connection to the next channel and nothing would churn). The server's
/// certificate is trusted through a custom validator that accepts exactly the one the benchmark made at start.
/// </summary>
public sealed class TlsChurnClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly ChannelFactory<IBenchTlsEcho> _factory;
    private readonly string _payload;

    public TlsChurnClient(Uri address, X509Certificate2 serverCertificate, int payloadSize)
    {
        var binding = new NetTcpBinding(SecurityMode.Transport)
        {
            Security = { Transport = { ClientCredentialType = TcpClientCredentialType.None } },
            OpenTimeout = Timeout, SendTimeout = Timeout, CloseTimeout = Timeout, ReceiveTimeout = Timeout,
        };
        var elements = binding.CreateBindingElements();
        elements.Find<TcpTransportBindingElement>()!.ConnectionPoolSettings.MaxOutboundConnectionsPerEndpoint = 0;
        _factory = new ChannelFactory<IBenchTlsEcho>(new CustomBinding(elements)
            { OpenTimeout = Timeout, SendTimeout = Timeout, CloseTimeout = Timeout, ReceiveTimeout = Timeout },
            new EndpointAddress(address));
        _factory.Credentials.ServiceCertificate.SslCertificateAuthentication = new X509ServiceCertificateAuthentication
        {
            CertificateValidationMode = X509CertificateValidationMode.Custom,
            CustomCertificateValidator = new ExactCertificate(serverCertificate.Thumbprint),
            RevocationMode = X509RevocationMode.NoCheck,
        };
        _factory.Open();
        _payload = new string('x', payloadSize);
    }

    /// <summary>Opens a channel (connect, preamble, upgrade, TLS handshake, PreambleAck); returns it.</summary>
    public async Task<IBenchTlsEcho> OpenAsync()
    {
        var channel = _factory.CreateChannel();
        var client = (IClientChannel)channel;
        try
        {
            await Task.Factory.FromAsync(client.BeginOpen, client.EndOpen, null).ConfigureAwait(false);
            return channel;
        }
        catch
        {
            client.Abort();
            throw;
        }
    }

    /// <summary>One echoed call, then Close (End both ways, the socket closed: the pool keeps nothing).</summary>
    public async Task EchoAndCloseAsync(IBenchTlsEcho channel)
    {
        var client = (IClientChannel)channel;
        try
        {
            var echoed = await channel.EchoAsync(_payload).ConfigureAwait(false);
            if (echoed.Length != _payload.Length) throw new InvalidDataException($"echo returned {echoed.Length} characters, not {_payload.Length}");
            await Task.Factory.FromAsync(client.BeginClose, client.EndClose, null).ConfigureAwait(false);
        }
        catch
        {
            client.Abort();
            throw;
        }
    }

    public void Dispose()
    {
        try { _factory.Close(); }
        catch (Exception e) when (e is CommunicationException or TimeoutException) { _factory.Abort(); }
    }

    /// <summary>WCF's custom validation: the benchmark's own server certificate, nothing else (no machine store).</summary>
    private sealed class ExactCertificate(string thumbprint) : X509CertificateValidator
    {
        public override void Validate(X509Certificate2 certificate)
        {
            if (!string.Equals(certificate.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase))
                throw new SecurityTokenValidationException($"{certificate.Subject} is not the benchmark's server certificate");
        }
    }
}
