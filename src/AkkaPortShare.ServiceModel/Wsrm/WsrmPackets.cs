using System.ServiceModel.Channels;
using AkkaPortShare.ReliableSessions;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>
/// Maps WS-RM SOAP messages to the transport-agnostic packets of <see cref="ReliableSessionActor"/> and back.
/// Application messages travel as <see cref="MessageBuffer"/> payloads (a Message can be read only once and
/// must not be shared between actors; a buffer can), or as the received Message itself when its owner is the only
/// one to read it (the sequence holds payloads without looking at them).
/// </summary>
internal static class WsrmPackets
{
    /// <summary>The packets one incoming message carries (a message may hold a Sequence, an ack and an ack request at once).</summary>
    public static List<IPacket> Read(Message message, WsrmVersion version) =>
        Read(message, version, WsrmHeaders.ReadSequence(message.Headers, version), asPayload: false);

    /// <summary>
    /// The same, for a message whose Sequence header the caller has read already (<paramref name="sequence"/>; null:
    /// it has none), and whose payload is the message itself when <paramref name="asPayload"/>: its owner keeps it
    /// unread and uses it once (see WsrmSessionActor.OnReceived). Reading a header parses the buffered envelope again
    /// up to it, and each message made from a buffer parses its headers again: at a window of hundreds of small
    /// one-way messages each of those was a measurable share of the worker's time.
    /// </summary>
    public static List<IPacket> Read(Message message, WsrmVersion version, SequenceHeader? sequence, bool asPayload)
    {
        var packets = new List<IPacket>(2);
        var headers = message.Headers;
        var ack = WsrmHeaders.ReadAcknowledgement(headers, version);
        var ackRequested = WsrmHeaders.ReadAckRequested(headers, version);
        AckPacket? ackPacket = ack is null ? null : new AckPacket(ack.Identifier, ack.Ranges, ack.BufferRemaining, ack.Final);
        if (sequence is not null)
        {
            // Feb 2005's LastMessage is a sequence message with nothing to deliver.
            var isEndMarker = headers.Action == version.LastMessageAction;
            object? payload = isEndMarker ? null : asPayload ? message : message.CreateBufferedCopy(int.MaxValue);
            packets.Add(new SequencePacket(sequence.Identifier, sequence.MessageNumber, sequence.LastMessage || isEndMarker,
                ackRequested == sequence.Identifier, payload, ackPacket));
            if (ackRequested is not null && ackRequested != sequence.Identifier) packets.Add(new AckRequestPacket(ackRequested));
            return packets;
        }
        if (ackPacket is not null) packets.Add(ackPacket);
        if (ackRequested is not null) packets.Add(new AckRequestPacket(ackRequested));
        return packets;
    }

    /// <summary>The SOAP message for an outgoing packet.</summary>
    public static Message Write(IPacket packet, WsrmVersion version, MessageVersion messageVersion)
    {
        switch (packet)
        {
            case SequencePacket { Payload: MessageBuffer buffer } sequence:
            {
                var message = buffer.CreateMessage();
                AddSequenceHeaders(message, sequence, version);
                return message;
            }
            case SequencePacket sequence:
            {
                var message = Message.CreateMessage(messageVersion, version.LastMessageAction, WsrmBodies.Empty);
                AddSequenceHeaders(message, sequence with { Last = true }, version);
                return message;
            }
            case AckPacket ack:
            {
                var message = Message.CreateMessage(messageVersion, version.SequenceAcknowledgementAction, WsrmBodies.Empty);
                message.Headers.Insert(0, Header(ack, version));
                return message;
            }
            case AckRequestPacket request:
            {
                var message = Message.CreateMessage(messageVersion, version.AckRequestedAction, WsrmBodies.Empty);
                message.Headers.Insert(0, WsrmHeaders.AckRequested(version, request.SequenceId));
                return message;
            }
            default:
                throw new ArgumentException($"Unknown packet {packet.GetType().Name}", nameof(packet));
        }
    }

    private static void AddSequenceHeaders(Message message, SequencePacket sequence, WsrmVersion version)
    {
        // WCF puts the RM headers first; their order carries no meaning.
        message.Headers.Insert(0, WsrmHeaders.Sequence(version, sequence.SequenceId, sequence.Number, sequence.Last));
        if (sequence.AckRequested) message.Headers.Insert(1, WsrmHeaders.AckRequested(version, sequence.SequenceId));
        if (sequence.Ack is { } ack) message.Headers.Insert(1, Header(ack, version));
    }

    private static MessageHeader Header(AckPacket ack, WsrmVersion version) =>
        WsrmHeaders.Acknowledgement(version, ack.SequenceId, ack.Ranges, ack.BufferRemaining, ack.Final);
}
