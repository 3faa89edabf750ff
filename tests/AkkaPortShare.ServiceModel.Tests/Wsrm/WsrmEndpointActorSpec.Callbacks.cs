using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using Akka.TestKit;
using AkkaPortShare.Protocol.TransferWindows;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using AkkaPortShare.ServiceModel.Wsrm;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Wsrm;

/// <summary>
/// Request/reply callbacks on a reliable session: the call that waits on one is still in progress when the client's
/// answer comes, as a later message of the client's sequence, so that answer is taken past the calls; in an ordered
/// session only once the messages before it are in, as WCF's ordered channel delivers it. A call taken while a
/// callback waits is dispatched then (the instance decides whether it runs); one taken otherwise waits its turn.
/// </summary>
public sealed partial class WsrmEndpointActorSpec
{
    private static readonly ContractMap Approvals = ContractMap.For(typeof(IApprovals));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WsrmEndpointActor_must_take_a_callback_answer_while_the_call_that_waits_on_it_is_in_progress(bool is11)
    {
        var version = Version(is11);
        var endpoint = StartEndpoint(contract: Approvals);
        var connection = ConnectionProbe();
        var (created, offerId) = await OpenAsync(endpoint, version, connection);
        var caller = CreateTestProbe("callback-caller");

        var submitId = SendSubmit(endpoint, version, created.Identifier, 1, connection);
        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        invoked.Callback.Tell(new InvokeCallback("Confirm", "ship it?"), caller.Ref);
        var confirmId = await CallbackRequestAsync(connection, version, offerId);

        Send(endpoint, version, CallbackAnswer(version, (created.Identifier, offerId), 2, confirmId, "yes"), connection);

        Assert.Equal("yes", (await caller.ExpectMsgAsync<OperationResult>()).ReturnValue);
        await AcknowledgedAsync(connection, version, created.Identifier, 2); // it took its number like any message
        _implementation.Reply(new OperationResult(true));
        await ExpectSubmitReplyAsync(connection, submitId);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public async Task WsrmEndpointActor_must_take_a_callback_answer_past_a_later_call_which_runs_while_a_callback_waits_and_is_held_otherwise(
        bool is11, bool ordered)
    {
        var version = Version(is11);
        var endpoint = StartEndpoint(contract: Approvals, ordered: ordered);
        var connection = ConnectionProbe();
        var (created, offerId) = await OpenAsync(endpoint, version, connection);
        var caller = CreateTestProbe("callback-caller");
        var firstId = SendSubmit(endpoint, version, created.Identifier, 1, connection);
        var first = await _implementation.ExpectMsgAsync<OperationInvoked>();
        var firstAsker = _implementation.LastSender;
        first.Callback.Tell(new InvokeCallback("Confirm", "ship it?"), caller.Ref);
        var confirmId = await CallbackRequestAsync(connection, version, offerId);

        // The answer overtakes message 2 (a second call) on the way.
        Send(endpoint, version, CallbackAnswer(version, (created.Identifier, offerId), 3, confirmId, "yes"), connection);
        if (ordered)
        {
            // WCF's ordered channel delivers nothing past a gap: the answer waits for message 2.
            await caller.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
            var secondId = SendSubmit(endpoint, version, created.Identifier, 2, connection);
            // Message 2 comes first, while the first call still waits on its callback: it is dispatched at once, as
            // WCF's channel handler goes on pumping a session whose service waits on the client (the instance, not
            // the session, decides whether it runs now: a Reentrant one does). Then the answer.
            var second = await _implementation.ExpectMsgAsync<OperationInvoked>();
            Assert.Equal("second", ((Order)second.Arguments[0]!).Item);
            var secondAsker = _implementation.LastSender;
            Assert.Equal("yes", (await caller.ExpectMsgAsync<OperationResult>()).ReturnValue);
            secondAsker.Tell(new OperationResult(false), Akka.Actor.ActorRefs.NoSender);
            await ExpectSubmitReplyAsync(connection, secondId);
            firstAsker.Tell(new OperationResult(true), Akka.Actor.ActorRefs.NoSender);
            await ExpectSubmitReplyAsync(connection, firstId);
        }
        else
        {
            Assert.Equal("yes", (await caller.ExpectMsgAsync<OperationResult>()).ReturnValue);
            await ExpectSecondCallHeldAsync(SendSubmit(endpoint, version, created.Identifier, 2, connection));
        }
        // Each took its number and is acknowledged, the answer too.
        var ack = await AcknowledgementAsync(connection, version, created.Identifier, forceAck: (endpoint, connection));
        Assert.Equal([new SequenceRange(1, 3)], ack.Ranges);

        async Task ExpectSecondCallHeldAsync(UniqueId secondId)
        {
            // Calls stay one at a time and in order: the second reaches the service once the first is answered.
            await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
            firstAsker.Tell(new OperationResult(true), Akka.Actor.ActorRefs.NoSender);
            await ExpectSubmitReplyAsync(connection, firstId);
            var second = await _implementation.ExpectMsgAsync<OperationInvoked>();
            Assert.Equal("second", ((Order)second.Arguments[0]!).Item);
            _implementation.Reply(new OperationResult(false));
            await ExpectSubmitReplyAsync(connection, secondId);
        }
    }

    [Fact]
    public async Task WsrmEndpointActor_must_not_take_calls_ahead_while_a_call_is_in_progress_without_a_callback()
    {
        var version = WsrmVersion.V11;
        var endpoint = StartEndpoint(contract: Approvals);
        var connection = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, connection);
        SendSubmit(endpoint, version, created.Identifier, 1, connection);
        await _implementation.ExpectMsgAsync<OperationInvoked>();

        SendSubmit(endpoint, version, created.Identifier, 2, connection);
        await AcknowledgedAsync(connection, version, created.Identifier, 2);

        // The second stays in the receive window, which it occupies: the client is told there is one place less.
        var ack = await AcknowledgementAsync(connection, version, created.Identifier, forceAck: (endpoint, connection));
        Assert.Equal(WsrmEndpointSettings.Create(Sys).Session.MaxTransferWindowSize - 1, ack.BufferRemaining);
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task WsrmEndpointActor_must_send_a_call_s_reply_before_ending_its_own_sequence_when_the_client_closes_meanwhile()
    {
        var version = WsrmVersion.V11;
        var endpoint = StartEndpoint(contract: Approvals);
        var connection = ConnectionProbe();
        var (created, offerId) = await OpenAsync(endpoint, version, connection);
        var submitId = SendSubmit(endpoint, version, created.Identifier, 1, connection);
        await _implementation.ExpectMsgAsync<OperationInvoked>();

        Send(endpoint, version, CloseSequence(version, created.Identifier, 1), connection);
        await SentAsync(connection, version.CloseSequenceResponseAction);
        _implementation.Reply(new OperationResult(true));

        // The reply goes out on the service's sequence, and only then does the service close that sequence.
        await ExpectSubmitReplyAsync(connection, submitId);
        Send(endpoint, version, new AckPacket(offerId, [new SequenceRange(1, 1)], 8), connection);
        using var close = (await SentAsync(connection, version.CloseSequenceAction)).CreateMessage();
        Assert.Equal((offerId, (long?)1), WsrmBodies.ReadSequenceReference(close.GetReaderAtBodyContents(), version));
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>Submit as message <paramref name="number"/> of the client's sequence; the first is "first", later ones "second".</summary>
    private static UniqueId SendSubmit(Akka.Actor.IActorRef endpoint, WsrmVersion version, string sequenceId, long number, TestProbe connection)
    {
        Assert.True(Approvals.TryGetOperation($"{IOrders.Ns}/IApprovals/Submit", out var submit));
        var message = WsrmClientMessages.Request(version, To, sequenceId, number, submit!,
            new Order { Id = (int)number, Item = number == 1 ? "first" : "second" });
        var messageId = message.Headers.MessageId;
        Send(endpoint, version, message, connection);
        return messageId;
    }

    /// <summary>
    /// The client's answer to the Confirm callback, as message <paramref name="number"/> of its sequence; it
    /// acknowledges the callback request (the service's first message), as WCF's client does on what it sends.
    /// </summary>
    private static Message CallbackAnswer(WsrmVersion version, (string Input, string Offer) ids, long number, UniqueId relatesTo,
        string answer)
    {
        Assert.True(Approvals.TryGetCallback("Confirm", out var confirm));
        var message = Message.CreateMessage(Soap, confirm!.ReplyAction, OperationBody.Reply(confirm, answer));
        message.Headers.RelatesTo = relatesTo;
        message.Headers.Insert(0, WsrmHeaders.Sequence(version, ids.Input, number, lastMessage: false));
        message.Headers.Insert(1, WsrmHeaders.AckRequested(version, ids.Input));
        message.Headers.Insert(2, WsrmHeaders.Acknowledgement(version, ids.Offer, [new SequenceRange(1, 1)], 8, final: false));
        return message;
    }

    /// <summary>The Confirm callback request, on the service's own (offered) sequence; its MessageID.</summary>
    private static async Task<UniqueId> CallbackRequestAsync(TestProbe connection, WsrmVersion version, string offerId)
    {
        using var request = (await SentAsync(connection, $"{IOrders.Ns}/IApprovals/Confirm")).CreateMessage();
        Assert.Equal(offerId, WsrmHeaders.ReadSequence(request.Headers, version)!.Identifier);
        return request.Headers.MessageId;
    }

    private static async Task ExpectSubmitReplyAsync(TestProbe connection, UniqueId relatesTo)
    {
        using var reply = (await SentAsync(connection, $"{IOrders.Ns}/IApprovals/SubmitResponse")).CreateMessage();
        Assert.Equal(relatesTo, reply.Headers.RelatesTo);
    }

    /// <summary>Reads what the service sends until an acknowledgement of the client's sequence covers <paramref name="number"/>.</summary>
    private static async Task AcknowledgedAsync(TestProbe connection, WsrmVersion version, string sequenceId, long number)
    {
        for (var i = 0; i < 20; i++)
        {
            using var message = (await SentAsync(connection)).CreateMessage();
            if (WsrmHeaders.ReadAcknowledgement(message.Headers, version) is { } ack && ack.Identifier == sequenceId
                && ack.Ranges.Any(r => r.Lower <= number && number <= r.Upper)) return;
        }
        throw new InvalidOperationException($"No acknowledgement of message {number} among 20 messages");
    }

    /// <summary>The acknowledgement the service answers an AckRequested with, now.</summary>
    private static async Task<AcknowledgementHeader> AcknowledgementAsync(TestProbe connection, WsrmVersion version, string sequenceId,
        (Akka.Actor.IActorRef Endpoint, TestProbe Connection) forceAck)
    {
        Send(forceAck.Endpoint, version, new AckRequestPacket(sequenceId), forceAck.Connection);
        using var message = (await SentAsync(connection, version.SequenceAcknowledgementAction)).CreateMessage();
        return WsrmHeaders.ReadAcknowledgement(message.Headers, version)!;
    }
}
