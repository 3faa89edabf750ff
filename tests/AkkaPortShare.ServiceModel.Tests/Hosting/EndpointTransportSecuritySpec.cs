using System.Security.Authentication;
using System.ServiceModel;
using AkkaPortShare.ServiceModel.Hosting;
using AkkaPortShare.Worker.Security;

namespace AkkaPortShare.ServiceModel.Tests.Hosting;

/// <summary>An endpoint's security written as WCF's binding writes it, as the worker takes it, and what is refused at start.</summary>
public sealed class EndpointTransportSecuritySpec
{
    private const string Address = "net.tcp://+:8808/secure/";

    [Fact]
    public void EndpointTransportSecurity_must_leave_an_endpoint_without_security_options_to_HOCON()
    {
        Assert.Null(EndpointTransportSecurity.Of(null));
        Assert.Null(EndpointTransportSecurity.Of(new NetTcpEndpointOptions { ReceiveTimeout = TimeSpan.FromSeconds(5) }));
    }

    [Fact]
    public void EndpointTransportSecurity_must_take_WCF_binding_security_with_WCF_names()
    {
        var binding = new NetTcpBinding(SecurityMode.Transport) { Security = { Transport = { ClientCredentialType = TcpClientCredentialType.Certificate } } };

        var security = EndpointTransportSecurity.Of(new NetTcpEndpointOptions
        {
            Security = binding.Security, TransportSecurityPath = "my.endpoint", AllowedClientCertificateThumbprints = ["ab"],
        })!;

        Assert.Equal(TransportSecurityMode.Transport, security.Mode);
        Assert.Equal(TransportClientCredential.Certificate, security.ClientCredentialType);
        Assert.Null(security.SslProtocols); // WCF's default (TLS 1.0-1.2) is no choice: HOCON's ssl-protocols stand
        Assert.Equal("my.endpoint", security.SettingsPath);
        Assert.Equal(["ab"], security.AllowedClientThumbprints!);
        Assert.Empty(EndpointTransportSecurity.Problems(Address, new NetTcpEndpointOptions { Security = binding.Security }));

        binding.Security.Transport.SslProtocols = SslProtocols.Tls13;
        Assert.Equal(SslProtocols.Tls13, EndpointTransportSecurity.Of(new NetTcpEndpointOptions { Security = binding.Security })!.SslProtocols);
        Assert.Equal(TransportSecurityMode.None,
            EndpointTransportSecurity.Of(new NetTcpEndpointOptions { Security = new NetTcpBinding(SecurityMode.None).Security })!.Mode);
    }

    [Fact]
    public void EndpointTransportSecurity_must_take_the_default_NetTcpBinding_as_Windows_credentials_at_its_protection_level()
    {
        // new NetTcpBinding(): Transport with Windows credentials, EncryptAndSign.
        var binding = new NetTcpBinding();
        Assert.Empty(EndpointTransportSecurity.Problems(Address, new NetTcpEndpointOptions { Security = binding.Security }));
        var security = EndpointTransportSecurity.Of(new NetTcpEndpointOptions { Security = binding.Security })!;
        Assert.Equal(TransportSecurityMode.Transport, security.Mode);
        Assert.Equal(TransportClientCredential.Windows, security.ClientCredentialType);
        Assert.Equal(System.Net.Security.ProtectionLevel.EncryptAndSign, security.ProtectionLevel);

        foreach (var level in new[] { System.Net.Security.ProtectionLevel.Sign, System.Net.Security.ProtectionLevel.None })
        {
            binding.Security.Transport.ProtectionLevel = level;
            Assert.Empty(EndpointTransportSecurity.Problems(Address, new NetTcpEndpointOptions { Security = binding.Security }));
            Assert.Equal(level, EndpointTransportSecurity.Of(new NetTcpEndpointOptions { Security = binding.Security })!.ProtectionLevel);
        }
    }

    [Fact]
    public void EndpointTransportSecurity_must_refuse_what_it_does_not_serve_naming_it_as_WCF_does()
    {
        // TLS always encrypts: a Sign-only protection level is WCF's Windows-credential setting.
        var tls = new NetTcpBinding(SecurityMode.Transport)
        {
            Security = { Transport = { ClientCredentialType = TcpClientCredentialType.Certificate, ProtectionLevel = System.Net.Security.ProtectionLevel.Sign } },
        };
        var problems = EndpointTransportSecurity.Problems(Address, new NetTcpEndpointOptions { Security = tls.Security }).ToList();
        Assert.Equal([$"{Address}: Security.Transport.ProtectionLevel = Sign; TLS serves EncryptAndSign only"], problems);

        var message = EndpointTransportSecurity.Problems(Address,
            new NetTcpEndpointOptions { Security = new NetTcpBinding(SecurityMode.Message).Security }).ToList();
        Assert.Contains(message, p => p.Contains("Security.Mode = Message; expected None or Transport"));
    }
}
