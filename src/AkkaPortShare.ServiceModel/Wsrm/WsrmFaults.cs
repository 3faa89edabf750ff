using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Text;
using System.Xml;
using AkkaPortShare.Protocol.TransferWindows;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>
/// WS-RM faults as WCF sends them (SOAP 1.2: Sender/Receiver, subcode wsrm:Name). Faults about one sequence carry
/// its wsrm:Identifier as detail: WCF's client recognises a WS-RM fault only with that detail (and checks the
/// identifier is one of its own), otherwise it reports an unrecognised fault instead of the protocol's exception.
/// </summary>
internal static class WsrmFaults
{
    private const string Soap12Namespace = "http://www.w3.org/2003/05/soap-envelope";
    private const string AddressingNamespace = "http://www.w3.org/2005/08/addressing";

    /// <summary>WS-Addressing 1.0's own fault action, used for its ActionNotSupported fault.</summary>
    public const string AddressingFaultAction = "http://www.w3.org/2005/08/addressing/fault";

    /// <summary>WS-Addressing 1.0's SOAP fault action: WCF's EndpointUnavailable uses it.</summary>
    public const string AddressingSoapFaultAction = "http://www.w3.org/2005/08/addressing/soap/fault";

    /// <summary>The pending-channel queue is full: the WCF client's Open() throws ServerTooBusyException.</summary>
    public static Message ConnectionLimitReached(MessageVersion messageVersion, WsrmVersion version, string endpoint) =>
        Create(messageVersion, Code("Receiver", "CreateSequenceRefused", version.Namespace,
                new FaultCode("ConnectionLimitReached", WsrmVersion.NetRmNamespace)),
            $"The create sequence request has been refused by the RM Destination. Server '{endpoint}' is too busy to " +
            "process this request. Try again later. The channel could not be opened.",
            version.FaultAction);

    /// <summary>A protocol problem with the request (Sender): the WCF client's Open() throws ProtocolException.</summary>
    public static Message CreateSequenceRefused(MessageVersion messageVersion, WsrmVersion version, string reason) =>
        Create(messageVersion, Code("Sender", "CreateSequenceRefused", version.Namespace),
            $"The create sequence request has been refused by the RM Destination. {reason}", version.FaultAction);

    /// <summary>The endpoint is closing (WCF: the listener no longer accepts): Open() throws EndpointNotFoundException.</summary>
    public static Message EndpointUnavailable(MessageVersion messageVersion, string reason) =>
        Create(messageVersion, Code("Sender", "EndpointUnavailable", AddressingNamespace), reason, AddressingSoapFaultAction);

    /// <summary>
    /// A WS-RM February 2005 endpoint got a message of another WS-RM version: WCF's listener answers with
    /// WS-Addressing's ActionNotSupported, and the client's Open() throws ActionNotSupportedException.
    /// </summary>
    public static Message ActionNotSupported(MessageVersion messageVersion, string? action, string reason) =>
        Create(messageVersion, Code("Sender", "ActionNotSupported", AddressingNamespace),
            $"The action {action} is not supported by this endpoint. {reason}", AddressingFaultAction);

    /// <summary>A WS-RM 1.1 endpoint got a message that is not WS-RM 1.1 (WCF: WsrmRequired, Sender, no detail).</summary>
    public static Message WsrmRequired(MessageVersion messageVersion, string reason) =>
        Create(messageVersion, Code("Sender", "WsrmRequired", WsrmVersion.V11.Namespace), reason, WsrmVersion.V11.FaultAction);

    public static Message UnknownSequence(MessageVersion messageVersion, WsrmVersion version, string identifier) =>
        Create(messageVersion, Code("Sender", "UnknownSequence", version.Namespace),
            $"The value of wsrm:Identifier is not a known Sequence identifier ({identifier}).", version.FaultAction,
            IdentifierDetail(version, identifier));

    /// <param name="senderFault">True for a protocol violation by the client, false for the service's own failure (inactivity, retries).</param>
    public static Message SequenceTerminated(MessageVersion messageVersion, WsrmVersion version, string identifier, string reason,
        bool senderFault) =>
        Create(messageVersion, Code(senderFault ? "Sender" : "Receiver", "SequenceTerminated", version.Namespace),
            $"The RM Destination has terminated the sequence. {reason}", version.FaultAction, IdentifierDetail(version, identifier));

    /// <summary>An acknowledgement of sequence <paramref name="identifier"/> covers numbers never sent; the detail repeats it.</summary>
    public static Message InvalidAcknowledgement(MessageVersion messageVersion, WsrmVersion version, string identifier,
        IReadOnlyList<SequenceRange> ranges, string reason) =>
        Create(messageVersion, Code("Sender", "InvalidAcknowledgement", version.Namespace), reason, version.FaultAction,
            writer =>
            {
                writer.WriteStartElement("r", "SequenceAcknowledgement", version.Namespace);
                writer.WriteElementString("Identifier", version.Namespace, identifier);
                foreach (var range in ranges)
                {
                    writer.WriteStartElement("AcknowledgementRange", version.Namespace);
                    writer.WriteAttributeString("Lower", XmlConvert.ToString(range.Lower));
                    writer.WriteAttributeString("Upper", XmlConvert.ToString(range.Upper));
                    writer.WriteEndElement();
                }
                writer.WriteEndElement();
            });

    /// <summary>A message number passed the maximum (WCF's: Int64.MaxValue); 1.1's detail names that maximum.</summary>
    public static Message MessageNumberRollover(MessageVersion messageVersion, WsrmVersion version, string identifier, long maxMessageNumber) =>
        Create(messageVersion, Code("Sender", "MessageNumberRollover", version.Namespace),
            "The maximum value for wsrm:MessageNumber has been exceeded.", version.FaultAction,
            writer =>
            {
                writer.WriteElementString("r", "Identifier", version.Namespace, identifier);
                if (!version.Is11) return;
                writer.WriteStartElement("r", "MaxMessageNumber", version.Namespace);
                writer.WriteValue(maxMessageNumber);
                writer.WriteEndElement();
            });

    /// <summary>February 2005: a message numbered after the LastMessage, or a second, different last message.</summary>
    public static Message LastMessageNumberExceeded(MessageVersion messageVersion, WsrmVersion version, string identifier, string reason) =>
        Create(messageVersion, Code("Sender", "LastMessageNumberExceeded", version.Namespace),
            $"The value for wsrm:MessageNumber exceeds the value of the MessageNumber accompanying a LastMessage element in this Sequence. {reason}",
            version.FaultAction, IdentifierDetail(version, identifier));

    /// <summary>1.1: a message after the sequence was closed (CloseSequence) or beyond its announced last number.</summary>
    public static Message SequenceClosed(MessageVersion messageVersion, WsrmVersion version, string identifier, string reason) =>
        Create(messageVersion, Code("Sender", "SequenceClosed", version.Namespace),
            $"The Sequence is closed and cannot accept new messages. {reason}", version.FaultAction, IdentifierDetail(version, identifier));

    private static FaultCode Code(string top, string name, string ns, FaultCode? subSubCode = null) =>
        new(top, Soap12Namespace, new FaultCode(name, ns, subSubCode));

    private static Action<XmlDictionaryWriter> IdentifierDetail(WsrmVersion version, string identifier) =>
        writer => writer.WriteElementString("r", "Identifier", version.Namespace, identifier);

    /// <remarks>
    /// System.ServiceModel.Primitives' reference assembly has neither Message.CreateMessage for a MessageFault nor
    /// MessageFault.WriteTo, and a fault written as a plain body is not a fault to the Message API (IsFault is
    /// false). So the SOAP 1.2 fault (net.tcp's envelope) is written here and the envelope read back: the result is a
    /// fault message exactly like one received from the wire.
    /// </remarks>
    private static Message Create(MessageVersion messageVersion, FaultCode code, string reason, string action,
        Action<XmlDictionaryWriter>? detail = null)
    {
        using var stream = new MemoryStream();
        using (var written = Message.CreateMessage(messageVersion, action, new FaultBody(code, reason, detail)))
        using (var writer = XmlDictionaryWriter.CreateTextWriter(stream, Encoding.UTF8, ownsStream: false))
        {
            written.WriteMessage(writer);
        }
        var reader = XmlDictionaryReader.CreateTextReader(stream.ToArray(), XmlDictionaryReaderQuotas.Max);
        return Message.CreateMessage(reader, int.MaxValue, messageVersion);
    }

    private sealed class FaultBody(FaultCode code, string reason, Action<XmlDictionaryWriter>? detail) : BodyWriter(isBuffered: true)
    {
        protected override void OnWriteBodyContents(XmlDictionaryWriter writer)
        {
            writer.WriteStartElement("s", "Fault", Soap12Namespace);
            writer.WriteStartElement("s", "Code", Soap12Namespace);
            WriteCode(writer, code);
            writer.WriteEndElement();
            writer.WriteStartElement("s", "Reason", Soap12Namespace);
            writer.WriteStartElement("s", "Text", Soap12Namespace);
            writer.WriteAttributeString("xml", "lang", "http://www.w3.org/XML/1998/namespace", "en-US");
            writer.WriteString(reason);
            writer.WriteEndElement();
            writer.WriteEndElement();
            if (detail is not null)
            {
                writer.WriteStartElement("s", "Detail", Soap12Namespace);
                detail(writer);
                writer.WriteEndElement();
            }
            writer.WriteEndElement();
        }

        /// <summary>Value, then the nested Subcode chain; each value is a QName whose prefix is declared on it.</summary>
        private static void WriteCode(XmlDictionaryWriter writer, FaultCode code)
        {
            writer.WriteStartElement("s", "Value", Soap12Namespace);
            if (code.Namespace == Soap12Namespace)
            {
                writer.WriteString($"s:{code.Name}");
            }
            else
            {
                writer.WriteXmlnsAttribute("c", code.Namespace);
                writer.WriteString($"c:{code.Name}");
            }
            writer.WriteEndElement();
            if (code.SubCode is not { } sub) return;
            writer.WriteStartElement("s", "Subcode", Soap12Namespace);
            WriteCode(writer, sub);
            writer.WriteEndElement();
        }
    }
}
