using System.Xml;
using Akka.Actor;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using AkkaPortShare.ServiceModel.Wsrm;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.ServiceOperations;
using static AkkaPortShare.ServiceModel.Wsrm.WsrmProtocol;

namespace AkkaPortShare.ServiceModel.Tests.Wsrm;

/// <summary>A reliable session over TLS: its calls carry the client certificate of the connection that created it.</summary>
public sealed partial class WsrmEndpointActorSpec
{
    [Fact]
    public async Task WsrmEndpointActor_must_give_a_sessions_calls_the_client_certificate_of_its_CreateSequence()
    {
        var caller = new FramingSession.ClientCertificate("CN=aps-test-client", "00112233445566778899AABBCCDDEEFF00112233");
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();

        using (var create = CreateSequence(version, new UniqueId(), offerId: null))
            endpoint.Tell(new RmReceived(create.CreateBufferedCopy(int.MaxValue), version, connection.Ref) { Caller = new AkkaPortShare.ServiceModel.Dispatch.Caller(caller, null) });
        var created = await CreatedAsync(connection, version);
        Assert.True(Echo.TryGetOperation($"{Samples}/IEchoService/Post", out var post));
        Send(endpoint, version, WsrmClientMessages.Request(version, To, created.Identifier, 1, post!, "one way"), connection);

        Assert.Equal(caller, (await _implementation.ExpectMsgAsync<OperationInvoked>()).ClientCertificate);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_give_a_sessions_calls_the_Windows_identity_of_its_CreateSequence()
    {
        var identity = new FramingSession.ClientIdentity(@"WORKGROUP\alice", "NTLM");
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();

        using (var create = CreateSequence(version, new UniqueId(), offerId: null))
            endpoint.Tell(new RmReceived(create.CreateBufferedCopy(int.MaxValue), version, connection.Ref)
            {
                Caller = new AkkaPortShare.ServiceModel.Dispatch.Caller(null, identity),
            });
        var created = await CreatedAsync(connection, version);
        Assert.True(Echo.TryGetOperation($"{Samples}/IEchoService/Post", out var post));
        Send(endpoint, version, WsrmClientMessages.Request(version, To, created.Identifier, 1, post!, "one way"), connection);

        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal(identity, invoked.ClientIdentity);
        Assert.Null(invoked.ClientCertificate);
    }
}
