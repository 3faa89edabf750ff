using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Principal;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.TestSupport.Security;
using AkkaPortShare.Worker.Security;
using AkkaPortShare.Worker.Sessions;
using AkkaPortShare.Worker.Tests.Security;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Tests.Sessions;

/// <summary>
/// Windows credentials on a connection: the application/negotiate upgrade answered, NegotiateStream as server (NTLM
/// through gss-ntlmssp, the test process's user file), the session inside it with the caller's identity, and the
/// connection plain again for a pooled client's next session. The test is the WCF client (NegotiateStream as client).
/// </summary>
public sealed partial class SessionConnectionActorSpec
{
    private const string NegotiateVia = "net.tcp://localhost:8808/win/Echo";

    private TestProbe AddNegotiateRoute(ProtectionLevel level = ProtectionLevel.EncryptAndSign)
    {
        var problems = new List<string>();
        // Process-wide: every spec of this process names the same file (GssNtlmssp.SharedUserFile).
        var settings = TransportSecuritySettings.Create(Akka.Configuration.ConfigurationFactory.ParseString(
            $"akka-port-share.worker.transport-security.ntlm-user-file = \"{GssNtlmssp.SharedUserFile}\""));
        WindowsAuthentication.Prepare([("net.tcp://+:8808/win/", settings)], problems);
        Assert.Empty(problems);
        var probe = CreateTestProbe();
        probe.SetAutoPilot(new DelegateAutoPilot((_, message) =>
        {
            if (message is SessionOpened opened) opened.Session.Tell(new Accept(probe.Ref));
            return AutoPilot.KeepRunning;
        }));
        _routes.Add(BaseAddress.Parse("net.tcp://+:8808/win/"), probe.Ref, new NegotiateEndpoint("net.tcp://+:8808/win/", level));
        return probe;
    }

    // The WCF client's side (WindowsStreamSecurityUpgradeInitiator): UpgradeResponse read, then NegotiateStream.
    private static async Task<NegotiateStream> NegotiateAsync(Socket client, string password = GssNtlmssp.TestPassword,
        ProtectionLevel level = ProtectionLevel.EncryptAndSign)
    {
        Assert.Equal([0x0A], await Loopback.ReadExactlyAsync(client, 1));
        var negotiate = new NegotiateStream(new NetworkStream(client, ownsSocket: false), leaveInnerStreamOpen: true);
        await negotiate.AuthenticateAsClientAsync(new NetworkCredential(GssNtlmssp.TestUser, password, GssNtlmssp.Domain),
            "host/localhost", level, TokenImpersonationLevel.Identification).WaitAsync(Loopback.IoTimeout);
        return negotiate;
    }

    [NtlmFact]
    public async Task SessionConnectionActor_must_run_a_session_inside_NegotiateStream_with_the_callers_identity_and_go_plain_after_it()
    {
        var service = AddNegotiateRoute();
        var (server, client) = await PairAsync();
        StartSession(server, UpgradePreamble(NegotiateVia, SessionConnectionActor.NegotiateUpgrade));

        await using (var negotiate = await NegotiateAsync(client))
        {
            Assert.True(negotiate.IsEncrypted);
            await negotiate.WriteAsync(FramingWriter.PreambleEnd.ToArray());
            Assert.Equal(Ack, await ReadExactlyAsync(negotiate, 1));
            var opened = await service.ExpectMsgAsync<SessionOpened>();
            Assert.True(opened.Secure);
            Assert.Equal(new ClientIdentity($@"{GssNtlmssp.Domain}\{GssNtlmssp.TestUser}", "NTLM"), opened.ClientIdentity);
            Assert.Null(opened.ClientCertificate);

            await negotiate.WriteAsync(SizedEnvelope(Payload(100)));
            Assert.Equal(Payload(100), (await service.ExpectMsgAsync<MessageReceived>()).Payload);
            opened.Session.Tell(new Send(Payload(70_000, seed: 7))); // more than one NegotiateStream frame (64 KB)
            Assert.Equal(SizedEnvelope(Payload(70_000, seed: 7)), await ReadExactlyAsync(negotiate, SizedEnvelope(Payload(70_000)).Length));

            await negotiate.WriteAsync(End);
            Assert.Equal(End, await ReadExactlyAsync(negotiate, 1));
            Assert.True((await service.ExpectMsgAsync<SessionClosed>()).Graceful);
        }

        // WCF's client pools the raw connection: its next session starts plain (here an unsecured endpoint).
        await Loopback.SendAsync(client, Preamble());
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        Assert.False((await _service.ExpectMsgAsync<SessionOpened>()).Secure);
    }

    [NtlmFact]
    public async Task SessionConnectionActor_must_close_a_connection_whose_credentials_are_refused()
    {
        var service = AddNegotiateRoute();
        var (server, client) = await PairAsync();
        var session = StartSession(server, UpgradePreamble(NegotiateVia, SessionConnectionActor.NegotiateUpgrade));

        // NegotiateStream's server tells the client (its error frame) before the worker closes the connection.
        var refused = await Assert.ThrowsAnyAsync<AuthenticationException>(() => NegotiateAsync(client, password: "wrong"));
        Assert.Contains("remote side", refused.Message);
        await ExpectTerminatedAsync(session);
        await service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [NtlmFact]
    public async Task SessionConnectionActor_must_answer_a_TLS_upgrade_on_a_Windows_endpoint_with_UpgradeInvalid()
    {
        AddNegotiateRoute();
        var (server, client) = await PairAsync();
        StartSession(server, UpgradePreamble(NegotiateVia));

        await ExpectFaultThenEofAsync(client, FramingFaults.UpgradeInvalid);
    }
}
