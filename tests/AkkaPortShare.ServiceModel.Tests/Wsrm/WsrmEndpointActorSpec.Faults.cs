using System.ServiceModel.Channels;
using Akka.Actor;
using System.Xml;
using System.Xml.Linq;
using AkkaPortShare.Protocol.TransferWindows;
using AkkaPortShare.ServiceModel.Wsrm;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;
using static AkkaPortShare.ServiceModel.Wsrm.WsrmProtocol;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Wsrm;

/// <summary>
/// The endpoint's refusals and the sessions' protocol faults, each as WCF sends it: the fault codes its client maps
/// to exceptions, the wsrm:Identifier detail it needs to take a fault as a WS-RM one, and the connection closed after
/// a refusal when no live session uses it.
/// </summary>
public sealed partial class WsrmEndpointActorSpec
{
    private const string AddressingNs = "http://www.w3.org/2005/08/addressing";

    /// <summary>The fault's detail as XML (the WS-RM faults about a sequence carry its Identifier there).</summary>
    private static XElement Detail(MessageFault fault)
    {
        Assert.True(fault.HasDetail, "the fault has no detail");
        using var reader = fault.GetReaderAtDetailContents();
        var detail = new XElement("Detail");
        while (reader.MoveToContent() == XmlNodeType.Element) detail.Add(XNode.ReadFrom(reader));
        return detail;
    }

    private static string? DetailIdentifier(MessageFault fault, WsrmVersion version) =>
        (string?)Detail(fault).Element(XName.Get("Identifier", version.Namespace));

    // ---------------------------------------------------------------- the endpoint's WS-RM version

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WsrmEndpointActor_must_answer_the_other_WS_RM_version_as_WCF_does_and_close_the_connection(bool endpointIs11)
    {
        var accepted = Version(endpointIs11);
        var other = Version(!endpointIs11);
        var endpoint = StartEndpoint(acceptedVersion: accepted);
        var connection = ConnectionProbe();
        var messageId = new UniqueId();

        Send(endpoint, other, CreateSequence(other, messageId, NewId()), connection);

        var (fault, action, relatesTo) = await FaultAsync(connection);
        Assert.Equal(messageId, relatesTo);
        Assert.True(fault.Code.IsSenderFault);
        if (endpointIs11)
        {
            // A 1.1 listener: WsrmRequired (the February 2005 client reports it as a ProtocolException).
            Assert.Equal(("WsrmRequired", WsrmVersion.V11.Namespace), Codes(fault)[1]);
            Assert.Equal(WsrmVersion.V11.FaultAction, action);
        }
        else
        {
            // A February 2005 listener: WS-Addressing's ActionNotSupported (the client throws ActionNotSupportedException).
            Assert.Equal(("ActionNotSupported", AddressingNs), Codes(fault)[1]);
        }
        Assert.Contains($"accepts only {accepted}", fault.Reason.GetMatchingTranslation().Text);
        await connection.ExpectMsgAsync<CloseConnection>();

        // The endpoint's own version opens a session as usual.
        await OpenAsync(endpoint, accepted, ConnectionProbe());
    }

    // ---------------------------------------------------------------- connections after a refusal

    [Fact]
    public async Task WsrmEndpointActor_must_close_a_connection_without_a_live_session_after_a_refusal_or_UnknownSequence()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();

        var refused = ConnectionProbe();
        // Refused: a 1.1 Offer whose Endpoint is not AcksTo.
        Send(endpoint, WsrmVersion.V11, CreateSequence(WsrmVersion.V11, new UniqueId(), NewId(), offerEndpoint: "net.tcp://elsewhere/"), refused);
        Assert.Equal("CreateSequenceRefused", Codes((await FaultAsync(refused)).Fault)[1].Name);
        await refused.ExpectMsgAsync<CloseConnection>();

        var unknown = ConnectionProbe();
        var id = NewId();
        Send(endpoint, version, new AckRequestPacket(id), unknown);
        var (fault, _, _) = await FaultAsync(unknown);
        Assert.Equal(id, DetailIdentifier(fault, version)); // WCF's client needs it to take the fault as UnknownSequence
        await unknown.ExpectMsgAsync<CloseConnection>();

        // A connection that carries a live session stays open: the fault is about another sequence only.
        var live = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, live);
        Send(endpoint, version, new AckRequestPacket(NewId()), live);
        await FaultAsync(live);
        await live.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Send(endpoint, version, new AckRequestPacket(created.Identifier), live);
        await SentAsync(live, version.SequenceAcknowledgementAction);
    }

    // ---------------------------------------------------------------- shutting down

    [Fact]
    public async Task WsrmEndpointActor_must_refuse_new_sessions_with_EndpointUnavailable_once_it_stops_accepting()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var live = ConnectionProbe();
        var liveMessageId = new UniqueId();
        var liveOffer = NewId();
        Send(endpoint, version, CreateSequence(version, liveMessageId, liveOffer), live);
        var created = await CreatedAsync(live, version);

        endpoint.Tell(StopAccepting.Instance, ActorRefs.NoSender);

        var connection = ConnectionProbe();
        var messageId = new UniqueId();
        Send(endpoint, version, CreateSequence(version, messageId, NewId()), connection);
        var (fault, action, relatesTo) = await FaultAsync(connection);
        // WCF's client maps exactly this (Sender, wsa:EndpointUnavailable) to EndpointNotFoundException.
        Assert.True(fault.Code.IsSenderFault);
        Assert.Equal(("EndpointUnavailable", AddressingNs), Codes(fault)[1]);
        Assert.Equal(WsrmFaults.AddressingSoapFaultAction, action);
        Assert.Equal(messageId, relatesTo);
        await connection.ExpectMsgAsync<CloseConnection>();

        // Sessions already established go on, and a resent CreateSequence of one is still answered.
        Send(endpoint, version, CreateSequence(version, liveMessageId, liveOffer), live);
        Assert.Equal(created.Identifier, (await CreatedAsync(live, version)).Identifier);
        Send(endpoint, version, EchoRequest(version, created.Identifier, 1, new UniqueId(), "still served"), live);
        Assert.Equal(["still served"], (await _implementation.ExpectMsgAsync<OperationInvoked>()).Arguments);
    }

    // ---------------------------------------------------------------- sequence faults

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WsrmEndpointActor_must_fault_a_message_number_beyond_the_maximum_with_MessageNumberRollover(bool is11)
    {
        var version = Version(is11);
        var endpoint = StartEndpoint(maxMessageNumber: 2);
        var connection = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, connection);

        Send(endpoint, version, EchoRequest(version, created.Identifier, 3, new UniqueId(), "too far"), connection);

        var (fault, action, _) = await FaultAsync(connection);
        Assert.Equal(version.FaultAction, action);
        Assert.True(fault.Code.IsSenderFault);
        Assert.Equal(("MessageNumberRollover", version.Namespace), Codes(fault)[1]);
        var detail = Detail(fault);
        Assert.Equal(created.Identifier, (string?)detail.Element(XName.Get("Identifier", version.Namespace)));
        // 1.1 names the maximum (WCF's client requires the element).
        Assert.Equal(is11 ? "2" : null, (string?)detail.Element(XName.Get("MaxMessageNumber", version.Namespace)));
        var session = connection.LastSender;
        Watch(session);
        await ExpectTerminatedAsync(session);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_fault_a_message_number_too_large_for_Int64_with_MessageNumberRollover()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, connection);
        using var request = EchoRequest(version, created.Identifier, 1, new UniqueId(), "overflow");
        request.Headers.RemoveAt(request.Headers.FindHeader("Sequence", version.Namespace));
        request.Headers.Insert(0, new RawSequenceHeader(version, created.Identifier, "9223372036854775808"));

        Send(endpoint, version, request, connection);

        var (fault, _, _) = await FaultAsync(connection);
        Assert.Equal(("MessageNumberRollover", version.Namespace), Codes(fault)[1]);
        Assert.Equal(created.Identifier, DetailIdentifier(fault, version));
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task WsrmEndpointActor_must_fault_a_message_after_the_LastMessage_with_LastMessageNumberExceeded()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, connection);
        Send(endpoint, version, new SequencePacket(created.Identifier, 1, Last: true, AckRequested: false, Payload: null), connection);

        Send(endpoint, version, EchoRequest(version, created.Identifier, 2, new UniqueId(), "after the end"), connection);

        var fault = await FirstFaultAsync(connection);
        Assert.True(fault.Code.IsSenderFault);
        Assert.Equal(("LastMessageNumberExceeded", version.Namespace), Codes(fault)[1]);
        Assert.Equal(created.Identifier, DetailIdentifier(fault, version));
    }

    [Fact]
    public async Task WsrmEndpointActor_must_fault_a_1_1_message_after_CloseSequence_with_SequenceClosed()
    {
        var version = WsrmVersion.V11;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, connection);
        Send(endpoint, version, CloseSequence(version, created.Identifier, 0), connection);
        await SentAsync(connection, version.CloseSequenceResponseAction);

        Send(endpoint, version, EchoRequest(version, created.Identifier, 1, new UniqueId(), "after close"), connection);

        var fault = await FirstFaultAsync(connection);
        Assert.Equal(("SequenceClosed", version.Namespace), Codes(fault)[1]);
        Assert.Equal(created.Identifier, DetailIdentifier(fault, version));
    }

    [Fact]
    public async Task WsrmEndpointActor_must_answer_a_1_1_message_outside_the_closed_sequence_with_SequenceClosed_and_a_final_ack()
    {
        var version = WsrmVersion.V11;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, connection);
        var session = created.Session;
        Watch(session);
        // Messages 1 and 3 are in, then the client closes its sequence at 3 (2 stays missing).
        Send(endpoint, version, EchoRequest(version, created.Identifier, 1, new UniqueId(), "one"), connection);
        Send(endpoint, version, EchoRequest(version, created.Identifier, 3, new UniqueId(), "three"), connection);
        Send(endpoint, version, CloseSequence(version, created.Identifier, 3), connection);
        await SentAsync(connection, version.CloseSequenceResponseAction);
        SequenceRange[] closedRanges = [new(1, 1), new(3, 3)];

        // Beyond the last number, and the missing one: WCF takes neither once the sequence is closed.
        foreach (var number in new long[] { 4, 2 })
        {
            Send(endpoint, version, EchoRequest(version, created.Identifier, number, new UniqueId(), $"late {number}"), connection);
            using var fault = (await FirstFaultMessageAsync(connection)).CreateMessage();
            var details = MessageFault.CreateFault(fault, int.MaxValue);
            Assert.True(details.Code.IsSenderFault);
            Assert.Equal(("SequenceClosed", version.Namespace), Codes(details)[1]);
            Assert.Equal(created.Identifier, DetailIdentifier(details, version));
            // WCF forces a final acknowledgement onto it: what the closed sequence holds.
            var ack = WsrmHeaders.ReadAcknowledgement(fault.Headers, version);
            Assert.NotNull(ack);
            Assert.Equal(created.Identifier, ack!.Identifier);
            Assert.Equal(closedRanges, ack.Ranges);
            Assert.True(ack.Final);
        }

        // The refused messages are dropped, not delivered, and the session goes on (WCF does not fault it).
        Assert.Equal(["one"], (await _implementation.ExpectMsgAsync<OperationInvoked>()).Arguments);
        Send(endpoint, version, new AckRequestPacket(created.Identifier), connection);
        using (var again = (await SentAsync(connection, version.SequenceAcknowledgementAction)).CreateMessage())
            Assert.Equal(closedRanges, WsrmHeaders.ReadAcknowledgement(again.Headers, version)!.Ranges);
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WsrmEndpointActor_must_fault_a_February_2005_TerminateSequence_before_the_sequence_is_complete(bool lastMessageSent)
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var (created, _) = await OpenAsync(endpoint, version, connection);
        var session = created.Session;
        Watch(session);
        // Message 1 is in; the end is not known yet, or it is (LastMessage 3) but message 2 is missing.
        Send(endpoint, version, EchoRequest(version, created.Identifier, 1, new UniqueId(), "one"), connection);
        if (lastMessageSent)
            Send(endpoint, version, new SequencePacket(created.Identifier, 3, Last: true, AckRequested: true, Payload: null), connection);

        Send(endpoint, version, TerminateSequence(version, created.Identifier), connection);

        var fault = await FirstFaultAsync(connection);
        Assert.True(fault.Code.IsSenderFault);
        Assert.Equal(("SequenceTerminated", version.Namespace), Codes(fault)[1]);
        Assert.Equal(created.Identifier, DetailIdentifier(fault, version));
        Assert.Contains("before the sequence was successfully completed", fault.Reason.GetMatchingTranslation().Text);
        await ExpectTerminatedAsync(session);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_accept_a_February_2005_TerminateSequence_right_behind_the_LastMessage()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var (created, offerId) = await OpenAsync(endpoint, version, connection);
        var session = created.Session;
        Watch(session);

        // Complete, though no acknowledgement has said so when the TerminateSequence arrives.
        Send(endpoint, version, new SequencePacket(created.Identifier, 1, Last: true, AckRequested: false, Payload: null), connection);
        Send(endpoint, version, TerminateSequence(version, created.Identifier), connection);

        // The service ends its own sequence as usual, and the session closes without a fault.
        await NoFaultUntilAsync(connection, version.LastMessageAction);
        Send(endpoint, version, new AckPacket(offerId, [new SequenceRange(1, 1)], 8), connection);
        await NoFaultUntilAsync(connection, version.TerminateSequenceAction);
        await ExpectTerminatedAsync(session);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_fault_an_acknowledgement_of_unsent_messages_with_InvalidAcknowledgement()
    {
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var (_, offerId) = await OpenAsync(endpoint, version, connection);

        // The service has sent nothing on the offered sequence yet.
        Send(endpoint, version, new AckPacket(offerId, [new SequenceRange(1, 5)], 8), connection);

        var fault = await FirstFaultAsync(connection);
        Assert.Equal(("InvalidAcknowledgement", version.Namespace), Codes(fault)[1]);
        // The detail repeats the acknowledgement, as WCF writes it.
        var ack = Detail(fault).Element(XName.Get("SequenceAcknowledgement", version.Namespace))!;
        Assert.Equal(offerId, (string?)ack.Element(XName.Get("Identifier", version.Namespace)));
        var range = ack.Element(XName.Get("AcknowledgementRange", version.Namespace))!;
        Assert.Equal(("1", "5"), ((string?)range.Attribute("Lower"), (string?)range.Attribute("Upper")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WsrmEndpointActor_must_fault_a_TerminateSequence_of_the_services_own_sequence(bool is11)
    {
        var version = Version(is11);
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var (created, offerId) = await OpenAsync(endpoint, version, connection);
        var session = created.Session;
        Watch(session);

        Send(endpoint, version, TerminateSequence(version, offerId), connection);

        var fault = await FirstFaultAsync(connection);
        Assert.True(fault.Code.IsSenderFault);
        Assert.Equal(("SequenceTerminated", version.Namespace), Codes(fault)[1]);
        Assert.Equal(offerId, DetailIdentifier(fault, version));
        await ExpectTerminatedAsync(session);
    }

    /// <summary>Skips acknowledgements and other messages until the first fault.</summary>
    private static async Task<MessageFault> FirstFaultAsync(Akka.TestKit.TestProbe connection)
    {
        using var message = (await FirstFaultMessageAsync(connection)).CreateMessage();
        return MessageFault.CreateFault(message, int.MaxValue);
    }

    /// <summary>The first fault, whole (its headers too), skipping what comes before.</summary>
    private static async Task<MessageBuffer> FirstFaultMessageAsync(Akka.TestKit.TestProbe connection)
    {
        for (var i = 0; i < 20; i++)
        {
            var buffer = await SentAsync(connection);
            using var message = buffer.CreateMessage();
            if (message.IsFault) return buffer;
        }
        throw new InvalidOperationException("No fault among 20 messages");
    }

    /// <summary>Skips what the service sends until <paramref name="action"/>, failing on any fault before it.</summary>
    private static async Task NoFaultUntilAsync(Akka.TestKit.TestProbe connection, string action)
    {
        for (var i = 0; i < 20; i++)
        {
            using var message = (await SentAsync(connection)).CreateMessage();
            Assert.False(message.IsFault, message.IsFault ? MessageFault.CreateFault(message, int.MaxValue).Reason.GetMatchingTranslation().Text : "");
            if (message.Headers.Action == action) return;
        }
        throw new InvalidOperationException($"No {action} among 20 messages");
    }

    /// <summary>A Sequence header with a MessageNumber written as given (e.g. one beyond Int64).</summary>
    private sealed class RawSequenceHeader(WsrmVersion version, string identifier, string number) : MessageHeader
    {
        public override string Name => "Sequence";
        public override string Namespace => version.Namespace;
        public override bool MustUnderstand => true;

        protected override void OnWriteHeaderContents(XmlDictionaryWriter writer, MessageVersion messageVersion)
        {
            writer.WriteElementString("Identifier", version.Namespace, identifier);
            writer.WriteElementString("MessageNumber", version.Namespace, number);
        }
    }
}
