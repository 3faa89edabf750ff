using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using System.Xml.Linq;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Protocol.TransferWindows;
using AkkaPortShare.ReliableSessions;
using AkkaPortShare.Samples.Echo;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using AkkaPortShare.ServiceModel.Wsrm;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;
using static AkkaPortShare.ServiceModel.Wsrm.WsrmProtocol;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Wsrm;

/// <summary>
/// The reliable-session listener of one endpoint. The test plays a WCF client (NetTcpBinding with reliable sessions:
/// SOAP 1.2, WS-Addressing 1.0), building the WS-RM messages with the codec and handing them in as the connection's
/// SOAP actor does (<see cref="RmReceived"/>); a probe per connection receives what the service sends
/// (<see cref="SendSoap"/>, whose sender is the session actor or, for refusals, the endpoint itself), another
/// stands for the contract's implementation.
/// </summary>
public sealed partial class WsrmEndpointActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka.loglevel = WARNING
        """;

    private const string Anonymous = "http://www.w3.org/2005/08/addressing/anonymous";
    private const string Addressing = "http://www.w3.org/2005/08/addressing";
    private const string Samples = "urn:akkaportshare:samples";

    private static readonly MessageVersion Soap = MessageVersion.Soap12WSAddressing10;
    private static readonly Uri To = new("net.tcp://localhost:8808/echo/");
    private static readonly ContractMap Echo = ContractMap.For(typeof(IEchoService));

    private readonly TestProbe _implementation;

    public WsrmEndpointActorSpec() : base(Config, "WsrmEndpointActorSpec")
    {
        _implementation = CreateTestProbe("implementation");
        // The session's start and end are what the identity specs check (they see everything); the others look at calls.
        _implementation.IgnoreMessages(m => m is SessionStarted or SessionEnded);
    }

    private IActorRef StartEndpoint(int maxConcurrentSessions = 100, int maxPendingChannels = 4,
        TimeSpan? acknowledgementInterval = null, WsrmVersion? acceptedVersion = null, long? maxMessageNumber = null,
        ContractMap? contract = null, bool ordered = true, TimeSpan? initialRoundTrip = null)
    {
        var settings = WsrmEndpointSettings.Create(Sys);
        contract ??= Echo;
        return Sys.ActorOf(WsrmEndpointActor.Props(contract, _implementation.Ref, ServiceModelSettings.Create(Sys),
            settings with
            {
                MaxConcurrentSessions = maxConcurrentSessions,
                MaxPendingChannels = maxPendingChannels,
                AcceptedVersion = acceptedVersion,
                Session = settings.Session with
                {
                    AcknowledgementInterval = acknowledgementInterval ?? settings.Session.AcknowledgementInterval,
                    MaxMessageNumber = maxMessageNumber ?? settings.Session.MaxMessageNumber,
                    Ordered = ordered,
                    InitialRoundTrip = initialRoundTrip ?? settings.Session.InitialRoundTrip,
                },
            },
            ServiceModelMetrics.Get(Sys).ForEndpoint(To.ToString(), contract.ContractName)));
    }

    /// <summary>A probe standing in for a connection's SOAP actor; the back-pressure bookkeeping (RmHandled) is not what these specs check.</summary>
    private TestProbe ConnectionProbe(string? name = null)
    {
        var probe = name is null ? CreateTestProbe() : CreateTestProbe(name);
        probe.IgnoreMessages<RmHandled>();
        return probe;
    }

    private static WsrmVersion Version(bool is11) => is11 ? WsrmVersion.V11 : WsrmVersion.February2005;

    private static string NewId() => $"urn:uuid:{Guid.NewGuid()}";

    // ---------------------------------------------------------------- the client's messages

    private static Message CreateSequence(WsrmVersion version, UniqueId messageId, string? offerId, string offerEndpoint = Anonymous) =>
        WsrmClientMessages.CreateSequence(version, To, offerId, messageId, offerEndpoint);

    /// <summary>An Echo request as message <paramref name="number"/> of the client's sequence, asking for an ack.</summary>
    private static Message EchoRequest(WsrmVersion version, string sequenceId, long number, UniqueId messageId, string text,
        bool askForAck = true)
    {
        Assert.True(Echo.TryGetOperation($"{Samples}/IEchoService/Echo", out var echo));
        var message = Message.CreateMessage(Soap, echo!.Action, OperationBody.Request(echo, [text]));
        message.Headers.MessageId = messageId;
        message.Headers.ReplyTo = new EndpointAddress(Anonymous);
        message.Headers.To = To;
        message.Headers.Insert(0, WsrmHeaders.Sequence(version, sequenceId, number, lastMessage: false));
        if (askForAck) message.Headers.Insert(1, WsrmHeaders.AckRequested(version, sequenceId));
        return message;
    }

    private static Message TerminateSequence(WsrmVersion version, string sequenceId) =>
        Message.CreateMessage(Soap, version.TerminateSequenceAction, WsrmBodies.SequenceReference("TerminateSequence", version, sequenceId));

    /// <summary>A WS-RM 1.1 CloseSequence ending the client's sequence at <paramref name="lastNumber"/>, with a MessageID.</summary>
    private static Message CloseSequence(WsrmVersion version, string sequenceId, long lastNumber)
    {
        var message = Message.CreateMessage(Soap, version.CloseSequenceAction,
            WsrmBodies.SequenceReference("CloseSequence", version, sequenceId, lastNumber));
        message.Headers.MessageId = new UniqueId();
        return message;
    }

    private static void Send(IActorRef endpoint, WsrmVersion version, Message message, TestProbe connection)
    {
        using (message) endpoint.Tell(new RmReceived(message.CreateBufferedCopy(int.MaxValue), version, connection.Ref));
    }

    private static void Send(IActorRef endpoint, WsrmVersion version, IPacket packet, TestProbe connection) =>
        Send(endpoint, version, WsrmPackets.Write(packet, version, Soap), connection);

    // ---------------------------------------------------------------- what the service sends

    private static async Task<MessageBuffer> SentAsync(TestProbe connection) =>
        (await connection.ExpectMsgAsync<SendSoap>(TimeSpan.FromSeconds(5))).Message;

    /// <summary>Skips what the service sends (acks, ...) until a message with <paramref name="action"/>.</summary>
    private static async Task<MessageBuffer> SentAsync(TestProbe connection, string action)
    {
        for (var i = 0; i < 20; i++)
        {
            var buffer = await SentAsync(connection);
            using var message = buffer.CreateMessage();
            if (message.Headers.Action == action) return buffer;
        }
        throw new InvalidOperationException($"No {action} among 20 messages");
    }

    private sealed record SessionCreated(string Identifier, string? AcceptAcksTo, UniqueId? RelatesTo, IActorRef Session);

    private static async Task<SessionCreated> CreatedAsync(TestProbe connection, WsrmVersion version)
    {
        var buffer = await SentAsync(connection);
        var session = connection.LastSender;
        using var message = buffer.CreateMessage();
        Assert.False(message.IsFault, message.IsFault ? MessageFault.CreateFault(message, int.MaxValue).Reason.GetMatchingTranslation().Text : "");
        Assert.Equal(version.CreateSequenceResponseAction, message.Headers.Action);
        var reader = message.GetReaderAtBodyContents();
        reader.MoveToContent();
        var body = (XElement)XNode.ReadFrom(reader);
        XNamespace rm = version.Namespace;
        XNamespace wsa = Addressing;
        Assert.Equal(rm + "CreateSequenceResponse", body.Name);
        var identifier = (string?)body.Element(rm + "Identifier");
        Assert.NotNull(identifier);
        return new SessionCreated(identifier!, (string?)body.Element(rm + "Accept")?.Element(rm + "AcksTo")?.Element(wsa + "Address"),
            message.Headers.RelatesTo, session);
    }

    private static async Task<(MessageFault Fault, string? Action, UniqueId? RelatesTo)> FaultAsync(TestProbe connection)
    {
        var buffer = await SentAsync(connection);
        using var message = buffer.CreateMessage();
        Assert.True(message.IsFault, $"expected a fault, got {message.Headers.Action}");
        return (MessageFault.CreateFault(message, int.MaxValue), message.Headers.Action, message.Headers.RelatesTo);
    }

    private static List<(string Name, string Namespace)> Codes(MessageFault fault)
    {
        var codes = new List<(string, string)>();
        for (var code = fault.Code; code is not null; code = code.SubCode) codes.Add((code.Name, code.Namespace));
        return codes;
    }

    /// <summary>Opens a session as a client would and returns it with its offered (service-to-client) sequence.</summary>
    private async Task<(SessionCreated Created, string OfferId)> OpenAsync(IActorRef endpoint, WsrmVersion version, TestProbe connection)
    {
        var offerId = NewId();
        Send(endpoint, version, CreateSequence(version, new UniqueId(), offerId), connection);
        return (await CreatedAsync(connection, version), offerId);
    }

    /// <summary>
    /// The client closes a February 2005 session (watched) as WCF's does: LastMessage, the service ends its own sequence
    /// (LastMessage, acknowledged, TerminateSequence), the client's TerminateSequence; returns the service's last number.
    /// </summary>
    private async Task<long> CloseFebruary2005Async(IActorRef endpoint, (SessionCreated Created, string OfferId) session,
        long lastNumber, TestProbe connection)
    {
        var version = WsrmVersion.February2005;
        var (created, offerId) = session;
        Send(endpoint, version, new SequencePacket(created.Identifier, lastNumber, Last: true, AckRequested: true, Payload: null), connection);
        long serviceLast;
        using (var last = (await SentAsync(connection, version.LastMessageAction)).CreateMessage())
            serviceLast = WsrmHeaders.ReadSequence(last.Headers, version)!.MessageNumber;
        Send(endpoint, version, new AckPacket(offerId, [new SequenceRange(1, serviceLast)], 8), connection);
        await SentAsync(connection, version.TerminateSequenceAction);
        Send(endpoint, version, TerminateSequence(version, created.Identifier), connection);
        await ExpectTerminatedAsync(created.Session);
        return serviceLast;
    }

    // ---------------------------------------------------------------- CreateSequence

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WsrmEndpointActor_must_answer_CreateSequence_with_a_new_sequence_that_accepts_the_offer(bool is11)
    {
        var version = Version(is11);
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var messageId = new UniqueId();
        var offerId = NewId();

        Send(endpoint, version, CreateSequence(version, messageId, offerId), connection);

        var created = await CreatedAsync(connection, version);
        Assert.Equal(messageId, created.RelatesTo);
        Assert.StartsWith("urn:uuid:", created.Identifier);
        Assert.NotEqual(offerId, created.Identifier);
        Assert.Equal(To.ToString(), created.AcceptAcksTo); // WCF's client requires it to equal its remote address
    }

    [Fact]
    public async Task WsrmEndpointActor_must_answer_a_resent_CreateSequence_with_the_same_sequence()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint(maxConcurrentSessions: 1, maxPendingChannels: 1);
        var connection = ConnectionProbe();
        var messageId = new UniqueId();
        var offerId = NewId();

        Send(endpoint, version, CreateSequence(version, messageId, offerId), connection);
        var first = await CreatedAsync(connection, version);
        // The client resends after 10 s without an answer: same MessageID, same Offer.
        Send(endpoint, version, CreateSequence(version, messageId, offerId), connection);
        var again = await CreatedAsync(connection, version);

        Assert.Equal(first.Identifier, again.Identifier);
        Assert.Equal(messageId, again.RelatesTo);
        Assert.Equal(first.Session, again.Session);

        // Still one session: with one accepted and room for one pending, a second distinct session is taken.
        var (other, _) = await OpenAsync(endpoint, version, connection);
        Assert.NotEqual(first.Identifier, other.Identifier);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WsrmEndpointActor_must_accept_a_CreateSequence_without_an_Offer_as_an_input_only_session(bool is11)
    {
        // A contract whose operations are all one-way: WCF's client offers no sequence, and WCF's service accepts it.
        var version = Version(is11);
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var messageId = new UniqueId();

        Send(endpoint, version, CreateSequence(version, messageId, offerId: null), connection);

        var created = await CreatedAsync(connection, version);
        Assert.Equal(messageId, created.RelatesTo);
        Assert.Null(created.AcceptAcksTo); // nothing offered, nothing accepted
        Assert.True(Echo.TryGetOperation($"{Samples}/IEchoService/Post", out var post));
        Send(endpoint, version, WsrmClientMessages.Request(version, To, created.Identifier, 1, post!, "one way"), connection);
        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal(("Post", created.Identifier), (invoked.Operation, invoked.SessionId));
        await SentAsync(connection, version.SequenceAcknowledgementAction);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_refuse_a_1_1_Offer_whose_Endpoint_differs_from_AcksTo()
    {
        var version = WsrmVersion.V11;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();

        Send(endpoint, version, CreateSequence(version, new UniqueId(), NewId(), offerEndpoint: "net.tcp://elsewhere/"), connection);

        var (fault, _, _) = await FaultAsync(connection);
        Assert.Equal(("CreateSequenceRefused", version.Namespace), Codes(fault)[1]);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_refuse_a_session_with_ConnectionLimitReached_when_the_pending_queue_is_full()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint(maxConcurrentSessions: 1, maxPendingChannels: 1);
        var connection = ConnectionProbe();

        await OpenAsync(endpoint, version, connection); // accepted at once
        await OpenAsync(endpoint, version, connection); // established, waits in the pending queue
        var messageId = new UniqueId();
        Send(endpoint, version, CreateSequence(version, messageId, NewId()), connection);

        var (fault, action, relatesTo) = await FaultAsync(connection);
        Assert.Equal(version.FaultAction, action);
        Assert.Equal(messageId, relatesTo);
        // WCF's client turns exactly this chain into ServerTooBusyException.
        Assert.Equal(
            [("Receiver", "http://www.w3.org/2003/05/soap-envelope"), ("CreateSequenceRefused", version.Namespace),
                ("ConnectionLimitReached", WsrmVersion.NetRmNamespace)],
            Codes(fault));
        Assert.Contains("too busy", fault.Reason.GetMatchingTranslation().Text);
    }

    // ---------------------------------------------------------------- routing

    [Fact]
    public async Task WsrmEndpointActor_must_answer_an_unknown_identifier_with_UnknownSequence()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        await OpenAsync(endpoint, version, connection);
        var unknown = NewId();

        Send(endpoint, version, new AckRequestPacket(unknown), connection);

        var (fault, action, _) = await FaultAsync(connection);
        Assert.Equal(version.FaultAction, action);
        Assert.True(fault.Code.IsSenderFault);
        Assert.Equal(("UnknownSequence", version.Namespace), Codes(fault)[1]);
        Assert.Contains(unknown, fault.Reason.GetMatchingTranslation().Text);

        // A sequence message for an unknown sequence, too.
        var messageId = new UniqueId();
        Send(endpoint, version, EchoRequest(version, unknown, 1, messageId, "hello"), connection);
        var (again, _, relatesTo) = await FaultAsync(connection);
        Assert.Equal(("UnknownSequence", version.Namespace), Codes(again)[1]);
        Assert.Equal(messageId, relatesTo);
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task WsrmEndpointActor_must_route_by_the_identifier_the_connection_read_and_answer_an_unknown_one_as_before()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, connection);

        using (var request = EchoRequest(version, created.Identifier, 1, new UniqueId(), "read once"))
            endpoint.Tell(new RmReceived(request.CreateBufferedCopy(int.MaxValue), version, connection.Ref) { SequenceId = created.Identifier });
        Assert.Equal("read once", (await _implementation.ExpectMsgAsync<OperationInvoked>()).Arguments[0]);

        var unknown = NewId();
        var other = ConnectionProbe();
        using (var stale = EchoRequest(version, unknown, 1, new UniqueId(), "nobody's"))
            endpoint.Tell(new RmReceived(stale.CreateBufferedCopy(int.MaxValue), version, other.Ref) { SequenceId = unknown });
        Assert.Equal(("UnknownSequence", version.Namespace), Codes((await FaultAsync(other)).Fault)[1]);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_route_by_either_identifier_through_whichever_connection_is_used()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var first = ConnectionProbe();
        var (created, offerId) = await OpenAsync(endpoint, version, first);

        // The client reconnects: an AckRequested for its sequence arrives on a new connection, and is answered there.
        var second = ConnectionProbe();
        Send(endpoint, version, new AckRequestPacket(created.Identifier), second);
        using (var ack = (await SentAsync(second, version.SequenceAcknowledgementAction)).CreateMessage())
            Assert.Equal(created.Identifier, WsrmHeaders.ReadAcknowledgement(ack.Headers, version)!.Identifier);

        // A message of the client's sequence is dispatched; the reply goes out on the offered sequence.
        var messageId = new UniqueId();
        Send(endpoint, version, EchoRequest(version, created.Identifier, 1, messageId, "hello"), second);
        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal("Echo", invoked.Operation);
        _implementation.Reply(new OperationResult("hello"));
        using (var reply = (await SentAsync(second, $"{Samples}/IEchoService/EchoResponse")).CreateMessage())
        {
            Assert.Equal(messageId, reply.Headers.RelatesTo);
            var sequence = WsrmHeaders.ReadSequence(reply.Headers, version)!;
            Assert.Equal(offerId, sequence.Identifier);
            Assert.Equal(1, sequence.MessageNumber);
        }

        // An ack of the offered sequence reaches the same session (it would otherwise resend the reply).
        Send(endpoint, version, new AckPacket(offerId, [new SequenceRange(1, 1)], 8), second);
        await second.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        await first.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task WsrmEndpointActor_must_acknowledge_at_once_the_first_message_on_a_new_connection()
    {
        var version = WsrmVersion.February2005;
        // An interval far beyond the test: any acknowledgement seen here was sent at once.
        var endpoint = StartEndpoint(acknowledgementInterval: TimeSpan.FromMinutes(1));
        var first = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, first);

        // On the connection the session began on, a message without AckRequested waits for the interval.
        Send(endpoint, version, EchoRequest(version, created.Identifier, 1, new UniqueId(), "one", askForAck: false), first);
        await _implementation.ExpectMsgAsync<OperationInvoked>();
        await first.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

        // The client reconnects: its next message is acknowledged on the new connection straight away, with both.
        var second = ConnectionProbe();
        Send(endpoint, version, EchoRequest(version, created.Identifier, 2, new UniqueId(), "two", askForAck: false), second);
        using var ack = (await SentAsync(second, version.SequenceAcknowledgementAction)).CreateMessage();
        var header = WsrmHeaders.ReadAcknowledgement(ack.Headers, version)!;
        Assert.Equal(created.Identifier, header.Identifier);
        Assert.Equal([new SequenceRange(1, 2)], header.Ranges);
        await first.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    // ---------------------------------------------------------------- the pending queue

    [Fact]
    public async Task WsrmEndpointActor_must_accept_a_pending_session_when_an_accepted_one_closes()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint(maxConcurrentSessions: 1, maxPendingChannels: 1);
        var first = ConnectionProbe("first-connection");
        var second = ConnectionProbe("second-connection");
        var (accepted, acceptedOffer) = await OpenAsync(endpoint, version, first);
        var (pending, pendingOffer) = await OpenAsync(endpoint, version, second);
        Watch(accepted.Session);

        // The pending session already takes messages (acked, buffered) but the service does not get them yet.
        var messageId = new UniqueId();
        Send(endpoint, version, EchoRequest(version, pending.Identifier, 1, messageId, "waiting"), second);
        using (var ack = (await SentAsync(second, version.SequenceAcknowledgementAction)).CreateMessage())
            Assert.Equal([new SequenceRange(1, 1)], WsrmHeaders.ReadAcknowledgement(ack.Headers, version)!.Ranges);
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

        // The accepted session closes as a Feb 2005 client closes it: LastMessage, then (once the service has ended its
        // own sequence the same way and that is acked) TerminateSequence.
        Send(endpoint, version, new SequencePacket(accepted.Identifier, 1, Last: true, AckRequested: false, Payload: null), first);
        using (var serviceLast = (await SentAsync(first, version.LastMessageAction)).CreateMessage())
        {
            var sequence = WsrmHeaders.ReadSequence(serviceLast.Headers, version)!;
            Assert.Equal(acceptedOffer, sequence.Identifier);
            Assert.True(sequence.LastMessage);
        }
        Send(endpoint, version, new AckPacket(acceptedOffer, [new SequenceRange(1, 1)], 8), first);
        await SentAsync(first, version.TerminateSequenceAction);
        Send(endpoint, version, TerminateSequence(version, accepted.Identifier), first);
        await ExpectTerminatedAsync(accepted.Session);

        // Its place goes to the pending session, whose buffered message now reaches the service.
        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal(["waiting"], invoked.Arguments);
        _implementation.Reply(new OperationResult("waiting"));
        using (var reply = (await SentAsync(second, $"{Samples}/IEchoService/EchoResponse")).CreateMessage())
        {
            Assert.Equal(messageId, reply.Headers.RelatesTo);
            Assert.Equal(pendingOffer, WsrmHeaders.ReadSequence(reply.Headers, version)!.Identifier);
        }

        // And the pending queue has room again.
        var third = ConnectionProbe("third-connection");
        await OpenAsync(endpoint, version, third);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_accept_a_pending_session_when_an_accepted_one_stops()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint(maxConcurrentSessions: 1, maxPendingChannels: 1);
        var first = ConnectionProbe("first-connection");
        var second = ConnectionProbe("second-connection");
        var (accepted, _) = await OpenAsync(endpoint, version, first);
        var (pending, _) = await OpenAsync(endpoint, version, second);
        Send(endpoint, version, EchoRequest(version, pending.Identifier, 1, new UniqueId(), "waiting"), second);
        await SentAsync(second, version.SequenceAcknowledgementAction);
        Send(endpoint, version, CreateSequence(version, new UniqueId(), NewId()), first);
        Assert.Equal("ConnectionLimitReached", Codes((await FaultAsync(first)).Fault)[2].Name);

        Sys.Stop(accepted.Session); // e.g. faulted by its inactivity timeout

        Assert.Equal(["waiting"], (await _implementation.ExpectMsgAsync<OperationInvoked>()).Arguments);
        // The stopped session is forgotten under both its identifiers (and its connection, now carrying no live
        // session, is closed after the fault, as WCF's listener closes it).
        Send(endpoint, version, new AckRequestPacket(accepted.Identifier), first);
        Assert.Equal("UnknownSequence", Codes((await FaultAsync(first)).Fault)[1].Name);
        await first.ExpectMsgAsync<CloseConnection>();
        await OpenAsync(endpoint, version, ConnectionProbe());
    }
}
