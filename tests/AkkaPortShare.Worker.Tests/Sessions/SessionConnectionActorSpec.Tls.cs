using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.TestSupport.Security;
using AkkaPortShare.Worker.Security;
using AkkaPortShare.Worker.Sessions;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Tests.Sessions;

/// <summary>
/// Transport security on a connection: the application/ssl-tls upgrade answered, the handshake, the session inside
/// TLS, and the connection plain again for a pooled client's next session. The test is the WCF client (SslStream).
/// </summary>
public sealed partial class SessionConnectionActorSpec
{
    private const string TlsVia = "net.tcp://localhost:8808/tls/Echo";
    private const string MutualVia = "net.tcp://localhost:8808/mtls/Echo";
    private static readonly Lazy<TestCertificates> Certificates = new(() => new TestCertificates());

    private static byte[] UpgradePreamble(string via, string upgrade = SessionConnectionActor.SslTlsUpgrade)
    {
        var record = new byte[128];
        var n = FramingWriter.WriteUpgradeRequest(record, upgrade);
        return [.. FramingWriter.Preamble(FramingMode.Duplex, via, includePreambleEnd: false), .. record.AsSpan(0, n)];
    }

    /// <summary>/tls/ (server certificate only) and /mtls/ (client certificates of the test CA), each served by a probe that accepts.</summary>
    private (TestProbe Tls, TestProbe Mutual) AddTlsRoutes()
    {
        var certs = Certificates.Value;
        var settings = TransportSecuritySettings.Create(ConfigurationFactory.Empty);
        TestProbe Route(string path, TransportClientCredential credential)
        {
            var probe = CreateTestProbe();
            probe.SetAutoPilot(new DelegateAutoPilot((_, message) =>
            {
                if (message is SessionOpened opened) opened.Session.Tell(new Accept(probe.Ref));
                return AutoPilot.KeepRunning;
            }));
            var tls = TlsEndpoint.Create($"net.tcp://+:8808/{path}/", settings, new EndpointSecurity
            {
                Mode = TransportSecurityMode.Transport,
                ClientCredentialType = credential,
                ServerCertificate = certs.Server,
                TrustedClientAuthorities = [certs.Ca],
            }, Sys.Log);
            _routes.Add(BaseAddress.Parse($"net.tcp://+:8808/{path}/"), probe.Ref, tls);
            return probe;
        }
        return (Route("tls", TransportClientCredential.None), Route("mtls", TransportClientCredential.Certificate));
    }

    // The WCF client's side: UpgradeResponse read, then the handshake, trusting only the test CA.
    private static async Task<SslStream> UpgradeAsync(Socket client, X509Certificate2? clientCertificate = null)
    {
        Assert.Equal([0x0A], await Loopback.ReadExactlyAsync(client, 1));
        var ssl = new SslStream(new NetworkStream(client, ownsSocket: false), leaveInnerStreamOpen: true);
        using var cts = new CancellationTokenSource(Loopback.IoTimeout);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = SslProtocols.Tls12,
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetCertHashString() == Certificates.Value.Server.Thumbprint,
        }, cts.Token);
        return ssl;
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var bytes = new byte[count];
        using var cts = new CancellationTokenSource(Loopback.IoTimeout);
        await stream.ReadExactlyAsync(bytes, cts.Token);
        return bytes;
    }

    [Fact]
    public async Task SessionConnectionActor_must_run_a_session_inside_TLS_after_the_upgrade_and_go_plain_for_the_next_preamble()
    {
        var (tlsService, _) = AddTlsRoutes();
        var (server, client) = await PairAsync();
        StartSession(server, UpgradePreamble(TlsVia));

        await using (var ssl = await UpgradeAsync(client))
        {
            await ssl.WriteAsync(FramingWriter.PreambleEnd.ToArray());
            Assert.Equal(Ack, await ReadExactlyAsync(ssl, 1));
            var opened = await tlsService.ExpectMsgAsync<SessionOpened>();
            Assert.True(opened.Secure);
            Assert.Null(opened.ClientCertificate);

            await ssl.WriteAsync(SizedEnvelope(Payload(100)));
            Assert.Equal(Payload(100), (await tlsService.ExpectMsgAsync<MessageReceived>()).Payload);
            opened.Session.Tell(new Send(Payload(3000, seed: 7)));
            Assert.Equal(SizedEnvelope(Payload(3000, seed: 7)), await ReadExactlyAsync(ssl, SizedEnvelope(Payload(3000)).Length));

            await ssl.WriteAsync(End);
            Assert.Equal(End, await ReadExactlyAsync(ssl, 1));
            Assert.True((await tlsService.ExpectMsgAsync<SessionClosed>()).Graceful);
        }

        // WCF's client pools the raw connection: its next session starts plain (here an unsecured endpoint).
        await Loopback.SendAsync(client, Preamble());
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        Assert.False((await _service.ExpectMsgAsync<SessionOpened>()).Secure);
    }

    [Fact]
    public async Task SessionConnectionActor_must_give_the_service_the_client_certificate_it_accepted()
    {
        var (_, mutualService) = AddTlsRoutes();
        var (server, client) = await PairAsync();
        StartSession(server, UpgradePreamble(MutualVia));

        await using var ssl = await UpgradeAsync(client, Certificates.Value.Client);
        await ssl.WriteAsync(FramingWriter.PreambleEnd.ToArray());

        Assert.Equal(Ack, await ReadExactlyAsync(ssl, 1));
        var opened = await mutualService.ExpectMsgAsync<SessionOpened>();
        Assert.Equal(new ClientCertificate(Certificates.Value.Client.Subject, Certificates.Value.Client.Thumbprint), opened.ClientCertificate);
    }

    [Fact]
    public async Task SessionConnectionActor_must_abort_an_upgrade_not_done_within_its_endpoints_OpenTimeout()
    {
        // The spec's receive-timeout is 3 s; this endpoint's OpenTimeout (WCF's name, set in C#) is 300 ms.
        var probe = CreateTestProbe();
        var tls = TlsEndpoint.Create("net.tcp://+:8808/open/", TransportSecuritySettings.Create(ConfigurationFactory.Empty),
            new EndpointSecurity
            {
                Mode = TransportSecurityMode.Transport,
                ServerCertificate = Certificates.Value.Server,
                OpenTimeout = TimeSpan.FromMilliseconds(300),
            }, Sys.Log);
        _routes.Add(BaseAddress.Parse("net.tcp://+:8808/open/"), probe.Ref, tls);
        var (server, client) = await PairAsync();
        var session = StartSession(server, UpgradePreamble("net.tcp://localhost:8808/open/Echo"));

        Assert.Equal([0x0A], await Loopback.ReadExactlyAsync(client, 1)); // UpgradeResponse; the client then says nothing

        await ExpectTerminatedAsync(session, TimeSpan.FromSeconds(2)); // well before receive-timeout
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SessionConnectionActor_must_refuse_a_client_certificate_of_another_authority_in_the_handshake()
    {
        var (_, mutualService) = AddTlsRoutes();
        var (server, client) = await PairAsync();
        var session = StartSession(server, UpgradePreamble(MutualVia));

        // TLS 1.2: the refusal is the handshake's own alert; the client's handshake (or its first read) fails.
        var refused = await Record.ExceptionAsync(async () =>
        {
            await using var ssl = await UpgradeAsync(client, Certificates.Value.RogueClient);
            await ssl.WriteAsync(FramingWriter.PreambleEnd.ToArray());
            await ReadExactlyAsync(ssl, 1);
        });

        Assert.True(refused is AuthenticationException or IOException, $"expected the handshake to fail, got {refused}");
        await ExpectTerminatedAsync(session);
        await mutualService.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SessionConnectionActor_must_refuse_a_client_without_a_certificate_where_one_is_required()
    {
        var (_, mutualService) = AddTlsRoutes();
        var (server, client) = await PairAsync();
        var session = StartSession(server, UpgradePreamble(MutualVia));

        var refused = await Record.ExceptionAsync(async () =>
        {
            await using var ssl = await UpgradeAsync(client);
            await ssl.WriteAsync(FramingWriter.PreambleEnd.ToArray());
            await ReadExactlyAsync(ssl, 1);
        });

        Assert.True(refused is AuthenticationException or IOException, $"expected the handshake to fail, got {refused}");
        await ExpectTerminatedAsync(session);
        await mutualService.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SessionConnectionActor_must_close_an_unsecured_session_to_a_TLS_endpoint_without_a_fault()
    {
        // WCF's server finds no remote security at PreambleEnd and aborts: no fault, no ack.
        var (tlsService, _) = AddTlsRoutes();
        var (server, client) = await PairAsync();
        var session = StartSession(server, Preamble(via: TlsVia));

        var read = await Loopback.ReadToEndAsync(client);
        Assert.Empty(read.Bytes);
        await ExpectTerminatedAsync(session);
        await tlsService.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SessionConnectionActor_must_fault_UpgradeInvalid_for_a_Windows_upgrade_on_a_TLS_endpoint()
    {
        AddTlsRoutes();
        var (server, client) = await PairAsync();
        StartSession(server, UpgradePreamble(TlsVia, "application/negotiate"));

        await ExpectFaultThenEofAsync(client, FramingFaults.UpgradeInvalid);
    }

    [Fact]
    public async Task SessionConnectionActor_must_send_a_fault_inside_TLS_for_a_message_too_large()
    {
        // A fault inside a secured session travels inside TLS.
        var (tlsService, _) = AddTlsRoutes();
        var (server, client) = await PairAsync();
        StartSession(server, UpgradePreamble(TlsVia));
        await using var ssl = await UpgradeAsync(client);
        await ssl.WriteAsync(FramingWriter.PreambleEnd.ToArray());
        Assert.Equal(Ack, await ReadExactlyAsync(ssl, 1));
        await tlsService.ExpectMsgAsync<SessionOpened>();

        await ssl.WriteAsync(SizedEnvelope(Payload(_settings.MaxMessageSize + 1)));

        var fault = FramingWriter.Fault(FramingFaults.MaxMessageSizeExceeded);
        Assert.Equal(fault, await ReadExactlyAsync(ssl, fault.Length));
    }
}
