using System.ServiceModel;
using System.ServiceModel.Channels;

namespace AkkaPortShare.ServiceModel.ReliableMessaging;

/// <summary>WS-RM faults as WCF sends them (SOAP 1.2: Sender/Receiver, subcode wsrm:Name, detail Identifier).</summary>
public static class WsrmFaults
{
    private const string Soap12Namespace = "http://www.w3.org/2003/05/soap-envelope";

    /// <summary>The pending-channel queue is full: the WCF client's Open() throws ServerTooBusyException.</summary>
    public static Message ConnectionLimitReached(MessageVersion messageVersion, WsrmVersion version, string endpoint) =>
        Message.CreateMessage(messageVersion,
            new FaultCode("Receiver", Soap12Namespace, new FaultCode("CreateSequenceRefused", version.Namespace,
                new FaultCode("ConnectionLimitReached", WsrmVersion.NetRmNamespace))),
            $"The create sequence request has been refused by the RM Destination. Server '{endpoint}' is too busy to " +
            "process this request. Try again later. The channel could not be opened.",
            version.FaultAction);

    public static Message CreateSequenceRefused(MessageVersion messageVersion, WsrmVersion version, string reason) =>
        Message.CreateMessage(messageVersion,
            new FaultCode("Sender", Soap12Namespace, new FaultCode("CreateSequenceRefused", version.Namespace)),
            $"The create sequence request has been refused by the RM Destination. {reason}", version.FaultAction);

    public static Message UnknownSequence(MessageVersion messageVersion, WsrmVersion version, string identifier) =>
        Message.CreateMessage(messageVersion,
            new FaultCode("Sender", Soap12Namespace, new FaultCode("UnknownSequence", version.Namespace)),
            $"The value of wsrm:Identifier is not a known Sequence identifier ({identifier}).", version.FaultAction);

    /// <param name="senderFault">True for a protocol violation by the client, false for the service's own failure (inactivity, retries).</param>
    public static Message SequenceTerminated(MessageVersion messageVersion, WsrmVersion version, string reason, bool senderFault) =>
        Message.CreateMessage(messageVersion,
            new FaultCode(senderFault ? "Sender" : "Receiver", Soap12Namespace, new FaultCode("SequenceTerminated", version.Namespace)),
            $"The RM Destination has terminated the sequence. {reason}", version.FaultAction);

    public static Message InvalidAcknowledgement(MessageVersion messageVersion, WsrmVersion version, string reason) =>
        Message.CreateMessage(messageVersion,
            new FaultCode("Sender", Soap12Namespace, new FaultCode("InvalidAcknowledgement", version.Namespace)),
            reason, version.FaultAction);
}
