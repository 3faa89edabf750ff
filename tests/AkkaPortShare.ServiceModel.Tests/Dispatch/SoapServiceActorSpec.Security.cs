using System.Xml;
using Akka.Actor;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Dispatch;

/// <summary>Who the caller is: a TLS session's client certificate, or a Negotiate session's Windows identity, reaches the service with the session and every call.</summary>
public sealed partial class SoapServiceActorSpec
{
    [Fact]
    public async Task SoapServiceActor_must_give_the_service_the_client_certificate_of_a_TLS_session_with_every_call()
    {
        var caller = new FramingSession.ClientCertificate("CN=aps-test-client", "00112233445566778899AABBCCDDEEFF00112233");
        var client = new WcfClientSession();
        var framing = CreateTestProbe();
        framing.IgnoreMessages<FramingSession.RequestMessages>();
        _service.Tell(new FramingSession.SessionOpened(framing.Ref, Via, BinarySession, "127.0.0.1:50001") { Secure = true, ClientCertificate = caller });
        var handler = (await framing.ExpectMsgAsync<FramingSession.Accept>()).Handler;

        handler.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(Op("Post"), null, "one-way")));
        Assert.Equal(caller, (await _implementation.ExpectMsgAsync<SessionStarted>()).ClientCertificate);
        Assert.Equal(caller, (await _implementation.ExpectMsgAsync<OperationInvoked>()).ClientCertificate);
        handler.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(EchoOp, new UniqueId(), "request")));
        Assert.Equal(caller, (await _implementation.ExpectMsgAsync<OperationInvoked>()).ClientCertificate);
    }

    [Fact]
    public async Task SoapServiceActor_must_give_the_service_the_Windows_identity_of_a_negotiated_session_with_every_call()
    {
        var identity = new FramingSession.ClientIdentity(@"WORKGROUP\alice", "NTLM");
        var client = new WcfClientSession();
        var framing = CreateTestProbe();
        framing.IgnoreMessages<FramingSession.RequestMessages>();
        _service.Tell(new FramingSession.SessionOpened(framing.Ref, Via, BinarySession, "127.0.0.1:50001") { Secure = true, ClientIdentity = identity });
        var handler = (await framing.ExpectMsgAsync<FramingSession.Accept>()).Handler;

        handler.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(Op("Post"), null, "one-way")));
        var started = await _implementation.ExpectMsgAsync<SessionStarted>();
        Assert.Equal(identity, started.ClientIdentity);
        Assert.Null(started.ClientCertificate);
        Assert.Equal(identity, (await _implementation.ExpectMsgAsync<OperationInvoked>()).ClientIdentity);
        handler.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(EchoOp, new UniqueId(), "request")));
        Assert.Equal(identity, (await _implementation.ExpectMsgAsync<OperationInvoked>()).ClientIdentity);
    }

    [Fact]
    public async Task SoapServiceActor_must_name_no_client_certificate_for_a_plain_session()
    {
        var (_, _, started) = await OpenAsync(new WcfClientSession());
        Assert.Null(started.ClientCertificate);
        Assert.Null(started.ClientIdentity);
    }
}
