using System.ServiceModel.Channels;
using System.Xml;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>
/// The WS-RM messages a <see cref="WsrmSessionActor"/> writes itself (everything but the packets, which
/// <see cref="WsrmPackets"/> writes): its answers to the client's CreateSequence, CloseSequence and TerminateSequence,
/// the requests that end the service's own sequence, and the fault of a failed session. Pure: the actor decides
/// when, this says what.
/// </summary>
internal sealed class WsrmSessionMessages(WsrmVersion version, MessageVersion messageVersion, string inputId, string? outputId,
    long maxMessageNumber)
{
    public Message CreateSequenceResponse(Message createSequence, bool ordered)
    {
        var response = Message.CreateMessage(messageVersion, version.CreateSequenceResponseAction,
            // The Accept answers the client's Offer: an input-only session (no Offer) has none.
            WsrmBodies.CreateSequenceResponse(version, inputId, acceptAcksTo: outputId is null ? null : createSequence.Headers.To?.ToString(), ordered));
        response.Headers.RelatesTo = createSequence.Headers.MessageId;
        return response;
    }

    /// <summary>1.1's CloseSequenceResponse and TerminateSequenceResponse carry a final acknowledgement.</summary>
    public Message WithFinalAck(string element, string action, AckPacket? ack, UniqueId? relatesTo)
    {
        var response = Message.CreateMessage(messageVersion, action, WsrmBodies.SequenceReference(element, version, inputId));
        response.Headers.Insert(0, WsrmHeaders.Acknowledgement(version, inputId, ack?.Ranges ?? [], ack?.BufferRemaining, final: true));
        response.Headers.RelatesTo = relatesTo;
        return response;
    }

    /// <summary>Ends the service's own sequence: TerminateSequence (both versions) or CloseSequence (1.1).</summary>
    public Message EndOutput(string element, string action, long lastNumberSent, string? endpointAddress)
    {
        var request = Message.CreateMessage(messageVersion, action,
            WsrmBodies.SequenceReference(element, version, outputId ?? throw new InvalidOperationException("An input-only session has no sequence of its own to end."), lastNumberSent));
        if (version.Is11)
        {
            request.Headers.MessageId = new UniqueId();
            // The client checks that the ReplyTo of these requests is the address it talks to.
            request.Headers.ReplyTo = new System.ServiceModel.EndpointAddress(endpointAddress ?? WsrmVersion.AnonymousAddress);
        }
        return request;
    }

    /// <summary>The WS-RM fault for a failed session, as WCF names each case.</summary>
    public Message FaultFor(SessionFaulted f, AckPacket? finalAck) => f.Kind switch
    {
        FaultKind.InvalidAcknowledgement => WsrmFaults.InvalidAcknowledgement(messageVersion, version, f.SequenceId, f.Ranges ?? [], f.Reason),
        FaultKind.LastMessageNumberExceeded when version.Is11 => SequenceClosed(f.Reason, finalAck),
        FaultKind.LastMessageNumberExceeded => WsrmFaults.LastMessageNumberExceeded(messageVersion, version, f.SequenceId, f.Reason),
        FaultKind.MessageNumberRollover => WsrmFaults.MessageNumberRollover(messageVersion, version, f.SequenceId, maxMessageNumber),
        _ => WsrmFaults.SequenceTerminated(messageVersion, version, f.SequenceId, f.Reason, senderFault: false),
    };

    /// <summary>SequenceClosed as WCF sends it: with a forced final acknowledgement of the client's sequence.</summary>
    public Message SequenceClosed(string reason, AckPacket? finalAck)
    {
        var fault = WsrmFaults.SequenceClosed(messageVersion, version, inputId, reason);
        fault.Headers.Insert(0, WsrmHeaders.Acknowledgement(version, inputId, finalAck?.Ranges ?? [], finalAck?.BufferRemaining, final: true));
        return fault;
    }

    /// <summary>SequenceTerminated for the client's protocol errors (WCF's sender fault).</summary>
    public Message ClientError(string sequenceId, string reason) =>
        WsrmFaults.SequenceTerminated(messageVersion, version, sequenceId, reason, senderFault: true);

    /// <summary>SequenceTerminated for a session that ended on the service's side without a reason it could name.</summary>
    public Message ServiceError(string reason) =>
        WsrmFaults.SequenceTerminated(messageVersion, version, inputId, reason, senderFault: false);
}
