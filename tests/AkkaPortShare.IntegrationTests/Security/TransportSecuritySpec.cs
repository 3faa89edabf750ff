using System.IdentityModel.Selectors;
using System.IdentityModel.Tokens;
using System.Security.Cryptography.X509Certificates;
using System.ServiceModel;
using System.ServiceModel.Security;
using AkkaPortShare.IntegrationTests.ServiceModel;

namespace AkkaPortShare.IntegrationTests.Security;

/// <summary>
/// The real WCF client (System.ServiceModel.NetTcp) with <c>NetTcpBinding(SecurityMode.Transport)</c> through the
/// router to echo workers that terminate TLS themselves. The client trusts the test CA through a custom validator
/// (nothing is added to the machine's stores) and checks the server's DNS name (localhost) as WCF always does.
/// </summary>
public sealed class TransportSecuritySpec(TransportSecurityFixture fixture) : IClassFixture<TransportSecurityFixture>
{
    /// <summary>Trusts exactly the certificates that chain to the test CA (WCF's CertificateValidationMode.Custom).</summary>
    private sealed class TestCaValidator(X509Certificate2 ca) : X509CertificateValidator
    {
        public override void Validate(X509Certificate2 certificate)
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (!chain.Build(certificate))
                throw new SecurityTokenValidationException($"{certificate.Subject} does not chain to the test CA");
        }
    }

    private static NetTcpBinding Binding(SecurityMode mode = SecurityMode.Transport,
        TcpClientCredentialType credential = TcpClientCredentialType.None, bool reliable = false) =>
        new(mode, reliable)
        {
            Security = { Transport = { ClientCredentialType = credential } },
            SendTimeout = TimeSpan.FromSeconds(20),
            ReceiveTimeout = TimeSpan.FromSeconds(20),
            OpenTimeout = TimeSpan.FromSeconds(20),
            CloseTimeout = TimeSpan.FromSeconds(10),
        };

    private T Secure<T>(T factory, X509Certificate2? clientCertificate = null) where T : ChannelFactory
    {
        factory.Credentials.ServiceCertificate.SslCertificateAuthentication = new X509ServiceCertificateAuthentication
        {
            CertificateValidationMode = X509CertificateValidationMode.Custom,
            CustomCertificateValidator = new TestCaValidator(fixture.Certificates.Ca),
            RevocationMode = X509RevocationMode.NoCheck,
        };
        if (clientCertificate is not null) factory.Credentials.ClientCertificate.Certificate = clientCertificate;
        return factory;
    }

    private ChannelFactory<IEchoService> EchoFactory(Uri address, NetTcpBinding? binding = null, X509Certificate2? clientCertificate = null) =>
        Secure(new ChannelFactory<IEchoService>(binding ?? Binding(), new EndpointAddress(address)), clientCertificate);

    private static void Close(object channel, ChannelFactory factory)
    {
        ((IClientChannel)channel).Close();
        factory.Close();
    }

    private void WithLogs(Action test) => fixture.Host.WithLogsOnFailure(test);

    [Fact]
    public void Request_reply_over_TLS_without_a_client_credential() => WithLogs(() =>
    {
        var factory = EchoFactory(fixture.Echo);
        var echo = factory.CreateChannel();

        Assert.Equal("over tls", echo.Echo("over tls"));
        Assert.Equal("worker-T", echo.Identity());
        Assert.Equal("anonymous", echo.Caller());
        var fault = Assert.Throws<FaultException<EchoFault>>(() => echo.Fail("inside tls"));
        Assert.Equal("inside tls", fault.Detail.Reason);
        Assert.Equal("still", echo.Echo("still"));
        Close(echo, factory);
    });

    [Fact]
    public void Request_reply_over_TLS_with_a_client_certificate_of_the_trusted_CA() => WithLogs(() =>
    {
        var factory = EchoFactory(fixture.Mutual, Binding(credential: TcpClientCredentialType.Certificate), fixture.Certificates.Client);
        var echo = factory.CreateChannel();

        Assert.Equal("mutual", echo.Echo("mutual"));
        Assert.Equal("worker-M", echo.Identity());
        Assert.Equal(fixture.Certificates.Client.Subject, echo.Caller());
        Close(echo, factory);
    });

    [Fact]
    public void A_duplex_session_over_TLS_gets_its_callbacks() => WithLogs(() =>
    {
        var callback = new RecordingCallback();
        var factory = Secure(new DuplexChannelFactory<IEchoDuplexService>(new InstanceContext(callback), Binding(),
            new EndpointAddress(fixture.Duplex)));
        var duplex = factory.CreateChannel();

        Assert.Equal("ping", duplex.EchoWithCallback("ping"));
        Assert.True(callback.Received.Wait(TimeSpan.FromSeconds(10)), "the callback did not arrive");
        Assert.Equal("ping", callback.Text);
        Close(duplex, factory);
    });

    [Fact]
    public void A_reliable_session_over_TLS_delivers_in_order() => WithLogs(() =>
    {
        var factory = EchoFactory(fixture.Mutual, Binding(credential: TcpClientCredentialType.Certificate, reliable: true),
            fixture.Certificates.Client);
        var echo = factory.CreateChannel();

        var before = echo.NumbersReceived();
        for (var i = 1; i <= 20; i++) echo.PostNumber(i);
        Assert.Equal("reliable", echo.Echo("reliable"));
        Assert.Contains("outOfOrder=0", echo.NumbersReceived());
        Assert.NotEqual(before, echo.NumbersReceived());
        Close(echo, factory);
    });

    [Fact]
    public void Streamed_transfer_over_TLS_moves_megabytes_both_ways() => WithLogs(() =>
    {
        var binding = Binding();
        binding.TransferMode = TransferMode.Streamed;
        binding.MaxReceivedMessageSize = 64L << 20;
        var factory = Secure(new ChannelFactory<IStreamService>(binding, new EndpointAddress(fixture.Stream)));
        var streams = factory.CreateChannel();

        const int size = 3 << 20;
        Assert.Equal(size, streams.Upload(new MemoryStream(new byte[size])));
        using var download = streams.Download(size);
        var buffer = new byte[64 * 1024];
        long total = 0, mismatches = 0;
        for (int n; (n = download.Read(buffer)) > 0; total += n)
            for (var i = 0; i < n; i++)
                if (buffer[i] != (byte)((total + i) % 251)) mismatches++;
        Assert.Equal(size, total);
        Assert.Equal(0, mismatches);
        Close(streams, factory);
    });

    [Fact]
    public void Pooled_TLS_connections_serve_sessions_for_other_addresses_and_other_workers() => WithLogs(() =>
    {
        // WCF's client pools the raw connection after End and starts the next session with a plain preamble and a new
        // handshake: the worker goes back to the socket, and hands a connection for another worker's via back to the
        // router before answering the upgrade.
        var factories = new[] { fixture.Echo, fixture.Other, fixture.OtherWorker }.Select(a => EchoFactory(a)).ToList();
        foreach (var factory in factories) factory.Open();
        for (var round = 0; round < 2; round++)
            for (var i = 0; i < factories.Count; i++)
            {
                var echo = factories[i].CreateChannel();
                Assert.Equal($"{round}/{i}", echo.Echo($"{round}/{i}"));
                Assert.Equal(i == 2 ? "worker-U" : "worker-T", echo.Identity());
                ((IClientChannel)echo).Close();
            }
        foreach (var factory in factories) factory.Close();
    });

    [Fact]
    public void A_client_certificate_of_another_CA_is_refused() => WithLogs(() =>
    {
        var factory = EchoFactory(fixture.Mutual, Binding(credential: TcpClientCredentialType.Certificate), fixture.Certificates.RogueClient);
        var echo = factory.CreateChannel();

        var refused = Assert.Throws<ProtocolException>(() => echo.Echo("let me in"));
        ((IClientChannel)echo).Abort();
        factory.Abort();
        // The worker refuses the certificate once the handshake is done (.NET validates it then) and closes: the client
        // finds its session-establishment request rejected (EOF where the PreambleAck should be).
        Assert.Contains("rejected the session-establishment request", refused.Message);
        var subject = fixture.Certificates.RogueClient.Subject;
        var line = fixture.MutualWorker.WaitForLineAsync($"TLS handshake with .* failed, connection closed: the client certificate {System.Text.RegularExpressions.Regex.Escape(subject)}.*does not chain to trust-store-path",
            TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        Assert.Contains(fixture.Certificates.RogueClient.Thumbprint, line);
    });

    [Fact]
    public void A_client_without_a_certificate_is_refused_where_one_is_required() => WithLogs(() =>
    {
        var factory = EchoFactory(fixture.Mutual);
        var echo = factory.CreateChannel();

        var refused = Assert.Throws<ProtocolException>(() => echo.Echo("anonymous"));
        ((IClientChannel)echo).Abort();
        factory.Abort();
        Assert.Contains("rejected the session-establishment request", refused.Message);
    });

    [Fact]
    public void An_unsecured_client_of_a_TLS_endpoint_is_refused() => WithLogs(() =>
    {
        var factory = new ChannelFactory<IEchoService>(Binding(SecurityMode.None), new EndpointAddress(fixture.Echo));
        var echo = factory.CreateChannel();

        var refused = Assert.Throws<ProtocolException>(() => echo.Echo("plain"));
        ((IClientChannel)echo).Abort();
        factory.Abort();
        // No fault and no PreambleAck (WCF's server aborts: RemoteSecurityNotNegotiatedOnStreamUpgrade).
        Assert.Contains("rejected the session-establishment request", refused.Message);
    });

    [Fact]
    public void A_TLS_client_of_a_plain_endpoint_is_refused_with_UpgradeInvalid() => WithLogs(() =>
    {
        var factory = EchoFactory(fixture.Plain);
        var echo = factory.CreateChannel();

        var refused = Assert.Throws<ProtocolException>(() => echo.Echo("secure?"));
        ((IClientChannel)echo).Abort();
        factory.Abort();
        Assert.Contains("The requested upgrade is not supported", refused.Message);
    });

    [Fact]
    public void An_endpoint_secured_in_code_serves_the_allowed_client_certificate_and_refuses_another_of_the_same_CA() => WithLogs(() =>
    {
        var binding = Binding(credential: TcpClientCredentialType.Certificate);
        var allowed = EchoFactory(fixture.SecuredInCode, binding, fixture.Certificates.Client);
        var echo = allowed.CreateChannel();
        Assert.Equal("allowed", echo.Echo("allowed"));
        Assert.Equal("worker-P", echo.Identity());
        Close(echo, allowed);

        var other = EchoFactory(fixture.SecuredInCode, binding, fixture.Certificates.OtherClient);
        var refused = other.CreateChannel();
        var e = Assert.Throws<ProtocolException>(() => refused.Echo("not listed"));
        Assert.Contains("rejected the session-establishment request", e.Message);
        ((IClientChannel)refused).Abort();
        other.Abort();
    });

    private sealed class RecordingCallback : IEchoCallback
    {
        public ManualResetEventSlim Received { get; } = new();
        public string? Text { get; private set; }

        public void Echoed(string text)
        {
            Text = text;
            Received.Set();
        }
    }
}

/// <summary>A worker that cannot read its server certificate does not start: exit 78 and one line naming the file and the setting.</summary>
public sealed class TransportSecurityFailFastSpec
{
    [Fact]
    public async Task A_worker_whose_certificate_cannot_be_read_exits_78_naming_the_file_and_the_setting()
    {
        using var host = new AkkaPortShare.IntegrationTests.Harness.PortShareHost(); // no router: nothing may be tried
        var config = host.WriteConfig("""
            akka-port-share.worker.transport-security { mode = transport, certificate-path = "/nonexistent/aps/server.pfx" }
            """);

        using var worker = host.StartWorkerAs("no-certificate", null, ["--wcf-address", host.Address("s/echo/"), "--config", config]);

        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)), worker.Output);
        Assert.Equal(78, worker.ExitCode);
        Assert.Contains($"{host.Address("s/echo/")}: akka-port-share.worker.transport-security.certificate-path: cannot read the server " +
                        "certificate /nonexistent/aps/server.pfx", worker.Output);
        Assert.DoesNotContain("Worker pid", worker.Output); // the worker actor never started
    }
}
