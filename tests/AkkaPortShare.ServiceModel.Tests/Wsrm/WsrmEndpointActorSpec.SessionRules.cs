using Akka.Actor;
using AkkaPortShare.ServiceModel.Instancing;
using AkkaPortShare.ServiceModel.Wsrm;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Wsrm;

/// <summary>WCF's session rules over a reliable session: what the service's failures end.</summary>
public sealed partial class WsrmEndpointActorSpec
{
    [Fact]
    public async Task WsrmEndpointActor_must_end_a_reliable_session_the_service_aborts_with_SequenceTerminated()
    {
        _implementation.IgnoreNoMessages();
        var version = WsrmVersion.V11;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, connection);
        Watch(created.Session);
        Assert.Equal(created.Identifier, (await _implementation.ExpectMsgAsync<SessionStarted>()).SessionId);

        // What a service instance sends when a one-way call of the session threw (WCF aborts the session channel).
        created.Session.Tell(new AbortSession(created.Identifier, "a one-way operation threw InvalidOperationException"));

        // The client is told at once, so its calls in flight fail now rather than at their timeouts.
        Assert.Equal(("SequenceTerminated", version.Namespace), Codes(await FirstFaultAsync(connection))[1]);
        await ExpectTerminatedAsync(created.Session);
        Assert.Equal(created.Identifier, (await _implementation.ExpectMsgAsync<SessionEnded>()).SessionId);
    }
}
