using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using AkkaPortShare.Protocol.TransferWindows;
using AkkaPortShare.ServiceModel.Wsrm;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Wsrm;

/// <summary>
/// A reliable session as the implementation sees it (one identity, whatever the connections), and as its own
/// supervisor: the sequence actor under it failing ends the session with SequenceTerminated.
/// </summary>
public sealed partial class WsrmEndpointActorSpec
{
    [Fact]
    public async Task WsrmEndpointActor_must_give_the_implementation_one_session_id_across_a_reconnect()
    {
        _implementation.IgnoreNoMessages();
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var first = ConnectionProbe("first-connection");
        var (created, offerId) = await OpenAsync(endpoint, version, first);
        Watch(created.Session);

        var started = await _implementation.ExpectMsgAsync<SessionStarted>();
        Assert.Equal(created.Identifier, started.SessionId);
        Assert.Equal(created.Session, started.Callback); // callbacks go out on the session's own sequence

        await CallAsync(endpoint, version, (created.Identifier, offerId), 1, "before", first, started.SessionId);
        // The client reconnects: the same session, and the implementation is told nothing new about it.
        var second = ConnectionProbe("second-connection");
        await CallAsync(endpoint, version, (created.Identifier, offerId), 2, "after", second, started.SessionId);

        await CloseFebruary2005Async(endpoint, (created, offerId), lastNumber: 3, second);

        Assert.Equal(started.SessionId, (await _implementation.ExpectMsgAsync<SessionEnded>()).SessionId);
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // once
    }

    [Fact]
    public async Task WsrmEndpointActor_must_start_a_session_for_the_implementation_only_when_it_is_accepted()
    {
        _implementation.IgnoreNoMessages();
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint(maxConcurrentSessions: 1, maxPendingChannels: 1);
        var (accepted, _) = await OpenAsync(endpoint, version, ConnectionProbe());
        Assert.Equal(accepted.Identifier, (await _implementation.ExpectMsgAsync<SessionStarted>()).SessionId);

        var (pending, _) = await OpenAsync(endpoint, version, ConnectionProbe());
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // waiting in the pending queue

        Sys.Stop(accepted.Session);

        Assert.Equal(accepted.Identifier, (await _implementation.ExpectMsgAsync<SessionEnded>()).SessionId);
        Assert.Equal(pending.Identifier, (await _implementation.ExpectMsgAsync<SessionStarted>()).SessionId);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_end_a_session_whose_sequence_stopped_without_a_fault_with_SequenceTerminated()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, connection);
        Watch(created.Session);
        var sequence = await Sys.ActorSelection(created.Session.Path / "sequence").ResolveOne(TimeSpan.FromSeconds(5));

        Sys.Stop(sequence); // as its StoppingStrategy stops it when it throws: no SessionFaulted

        var (fault, _, _) = await FaultAsync(connection);
        Assert.Equal(("SequenceTerminated", version.Namespace), Codes(fault)[1]);
        Assert.False(fault.Code.IsSenderFault);
        await ExpectTerminatedAsync(created.Session);
    }

    /// <summary>
    /// Message <paramref name="number"/> calls Echo; the call carries <paramref name="sessionId"/>, and its reply (the
    /// service's message of the same number) goes out and is acknowledged.
    /// </summary>
    private async Task CallAsync(IActorRef endpoint, WsrmVersion version, (string Input, string Offer) ids, long number, string text,
        Akka.TestKit.TestProbe connection, string sessionId)
    {
        var messageId = new UniqueId();
        Send(endpoint, version, EchoRequest(version, ids.Input, number, messageId, text), connection);
        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal(sessionId, invoked.SessionId);
        _implementation.Reply(new OperationResult(text));
        using var reply = (await SentAsync(connection, $"{Samples}/IEchoService/EchoResponse")).CreateMessage();
        Assert.Equal(messageId, reply.Headers.RelatesTo);
        Send(endpoint, version, new AckPacket(ids.Offer, [new SequenceRange(1, number)], 8), connection);
    }
}
