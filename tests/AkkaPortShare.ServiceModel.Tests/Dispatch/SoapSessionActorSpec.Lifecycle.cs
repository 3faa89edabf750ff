using System.Xml;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.ServiceModel.Dispatch;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using AkkaPortShare.ServiceModel.Wsrm;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Dispatch;

/// <summary>
/// The SOAP session and its framing session as one unit: it accepts the framing session naming itself as the handler,
/// each ends with the other, and the implementation hears of the session under one id, only for sessions of its own.
/// </summary>
public sealed partial class SoapSessionActorSpec
{
    private (IActorRef Session, TestProbe Framing, TestProbe Implementation) StartWatchedSession()
    {
        var framing = CreateTestProbe();
        var implementation = CreateTestProbe();
        var session = Sys.ActorOf(SoapSessionActor.Props(framing.Ref, Echo, implementation.Ref, _reliable.Ref,
            ServiceModelSettings.Create(Sys), SessionId,
            ServiceModelMetrics.Get(Sys).ForEndpoint("net.tcp://+:8808/svc/", Echo.ContractName)));
        Watch(session);
        return (session, framing, implementation);
    }

    [Fact]
    public async Task SoapSessionActor_must_accept_its_framing_session_as_the_handler()
    {
        var (session, framing, _) = StartWatchedSession();

        Assert.Equal(session, (await framing.ExpectMsgAsync<FramingSession.Accept>()).Handler);
        await framing.ExpectMsgAsync<FramingSession.RequestMessages>();
    }

    [Fact]
    public async Task SoapSessionActor_must_announce_its_session_at_the_first_message_with_the_id_its_operations_carry()
    {
        var (session, framing, implementation) = StartWatchedSession();
        await implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // nothing yet: no message of its own

        session.Tell(new FramingSession.MessageReceived(framing.Ref, _client.Request(Op(Echo, "Echo"), new UniqueId(), "a")));
        session.Tell(new FramingSession.MessageReceived(framing.Ref, _client.Request(Op(Echo, "Post"), null, "b")));

        var started = await implementation.ExpectMsgAsync<SessionStarted>();
        Assert.Equal((SessionId, session), (started.SessionId, started.Callback));
        Assert.Equal(SessionId, (await implementation.ExpectMsgAsync<OperationInvoked>()).SessionId);
        Assert.Equal(SessionId, (await implementation.ExpectMsgAsync<OperationInvoked>()).SessionId);

        session.Tell(new FramingSession.SessionClosed(framing.Ref, Graceful: true));
        Assert.Equal(SessionId, (await implementation.ExpectMsgAsync<SessionEnded>()).SessionId);
        await ExpectTerminatedAsync(session);
        await implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // ended once
    }

    [Fact]
    public async Task SoapSessionActor_must_end_when_its_framing_session_stops()
    {
        var (session, framing, implementation) = StartWatchedSession();
        session.Tell(new FramingSession.MessageReceived(framing.Ref, _client.Request(Op(Echo, "Post"), null, "x")));
        await implementation.ExpectMsgAsync<SessionStarted>();
        await implementation.ExpectMsgAsync<OperationInvoked>();

        Sys.Stop(framing.Ref); // the connection actor died without a SessionClosed

        await ExpectTerminatedAsync(session);
        Assert.Equal(SessionId, (await implementation.ExpectMsgAsync<SessionEnded>()).SessionId);
    }

    [Fact]
    public async Task SoapSessionActor_must_announce_nothing_for_a_connection_that_carries_a_reliable_session()
    {
        var (session, framing, implementation) = StartWatchedSession();
        var to = new Uri("net.tcp://localhost:8808/svc/Echo");

        session.Tell(new FramingSession.MessageReceived(framing.Ref,
            _client.Encode(WsrmClientMessages.CreateSequence(WsrmVersion.February2005, to, WsrmClientMessages.NewId()))));

        // The reliable session's messages belong to the reliable session, which announces itself under its own id.
        await _reliable.ExpectMsgAsync<WsrmProtocol.RmReceived>();
        session.Tell(new FramingSession.SessionClosed(framing.Ref, Graceful: false));
        await ExpectTerminatedAsync(session);
        await implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }
}
