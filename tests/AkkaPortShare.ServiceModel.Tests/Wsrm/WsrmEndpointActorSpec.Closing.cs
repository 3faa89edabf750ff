using AkkaPortShare.Protocol.TransferWindows;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using AkkaPortShare.ServiceModel.Wsrm;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Wsrm;

/// <summary>
/// The service ends its own sequence when the client closes, once everything it sent is acknowledged. WS-RM 1.1 has
/// no last message to carry AckRequested, and WCF's client cancels its acknowledgement timer as soon as it starts to
/// close (ReliableDuplexSessionChannel.OnClosing): a reply it received just before Close() is acknowledged only if the
/// service asks. So the service asks as it closes, as WCF's own sender does (ReliableOutputConnection.CompleteTransfer
/// sends AckRequested when a 1.1 sequence closes with messages unacknowledged), instead of waiting for a
/// retransmission timeout: seconds on an idle machine, and under load long enough for the client's CloseTimeout to
/// expire first (ReliableCallbackSpec's intermittent ProtocolException).
/// </summary>
public sealed partial class WsrmEndpointActorSpec
{
    [Fact]
    public async Task WsrmEndpointActor_must_ask_for_the_acknowledgement_of_its_last_reply_when_a_1_1_client_closes_without_giving_it()
    {
        var version = WsrmVersion.V11;
        // The retransmission timeout starts at minutes, so no resend can get the acknowledgement within this spec:
        // only the service asking for it can.
        var endpoint = StartEndpoint(contract: Approvals, initialRoundTrip: TimeSpan.FromMinutes(10));
        var connection = ConnectionProbe();
        var (created, offerId) = await OpenAsync(endpoint, version, connection);

        // The first reply fills the service's initial window, so it asks for its acknowledgement; the client gives it.
        var firstId = SendSubmit(endpoint, version, created.Identifier, 1, connection);
        await _implementation.ExpectMsgAsync<OperationInvoked>();
        _implementation.Reply(new OperationResult(true));
        await ExpectSubmitReplyAsync(connection, firstId);
        Send(endpoint, version, new AckPacket(offerId, [new SequenceRange(1, 1)], 8), connection);

        // The second reply has room in the window and asks for nothing; the client closes before its timer acks it.
        var secondId = SendSubmit(endpoint, version, created.Identifier, 2, connection);
        await _implementation.ExpectMsgAsync<OperationInvoked>();
        _implementation.Reply(new OperationResult(false));
        using (var reply = (await SentAsync(connection, $"{IOrders.Ns}/IApprovals/SubmitResponse")).CreateMessage())
        {
            Assert.Equal(secondId, reply.Headers.RelatesTo);
            Assert.Null(WsrmHeaders.ReadAckRequested(reply.Headers, version));
        }
        Send(endpoint, version, CloseSequence(version, created.Identifier, 2), connection);

        // The service asks for the acknowledgement of its own sequence, gets it, and ends that sequence.
        using (var request = (await SentAsync(connection, version.AckRequestedAction)).CreateMessage())
            Assert.Equal(offerId, WsrmHeaders.ReadAckRequested(request.Headers, version));
        Send(endpoint, version, new AckPacket(offerId, [new SequenceRange(1, 2)], 8), connection);
        using var close = (await SentAsync(connection, version.CloseSequenceAction)).CreateMessage();
        Assert.Equal((offerId, (long?)2), WsrmBodies.ReadSequenceReference(close.GetReaderAtBodyContents(), version));
    }

    /// <summary>
    /// The service's TerminateSequence (February 2005) is not acknowledged, and nothing resends it: when the connection
    /// carrying it is cut, the client's Close() waits for it, reconnects and asks again. The session has closed by then;
    /// its last word is repeated rather than answered UnknownSequence (seen in WireChaosSpec under load: the client's
    /// Close() failed although every message had arrived). A sequence never seen is still UnknownSequence.
    /// </summary>
    [Fact]
    public async Task WsrmEndpointActor_must_repeat_a_closed_sessions_final_acknowledgement_and_TerminateSequence_to_a_client_that_asks_again()
    {
        _implementation.IgnoreNoMessages();
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var first = ConnectionProbe("first-connection");
        var (created, offerId) = await OpenAsync(endpoint, version, first);
        Watch(created.Session);

        // The client closes; the service's TerminateSequence is the one a cut takes.
        var serviceLast = await CloseFebruary2005Async(endpoint, (created, offerId), lastNumber: 1, first);

        // On a new connection the client acknowledges the service's sequence again, then asks for its own's state.
        var second = ConnectionProbe("second-connection");
        foreach (IPacket asked in new IPacket[] { new AckPacket(offerId, [new SequenceRange(1, serviceLast)], 8), new AckRequestPacket(created.Identifier) })
        {
            Send(endpoint, version, asked, second);
            using (var ack = (await SentAsync(second)).CreateMessage())
            {
                Assert.False(ack.IsFault);
                var read = WsrmHeaders.ReadAcknowledgement(ack.Headers, version)!;
                Assert.Equal(created.Identifier, read.Identifier);
                Assert.Equal(new[] { new SequenceRange(1, 1) }, read.Ranges);
            }
            using (var terminate = (await SentAsync(second)).CreateMessage())
            {
                Assert.Equal(version.TerminateSequenceAction, terminate.Headers.Action);
                var (id, _) = WsrmBodies.ReadSequenceReference(terminate.GetReaderAtBodyContents(), version);
                Assert.Equal(offerId, id);
            }
        }
        await second.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // the connection stays

        var unknown = ConnectionProbe("unknown-connection");
        Send(endpoint, version, new AckRequestPacket(NewId()), unknown);
        await FaultAsync(unknown);
    }
}
