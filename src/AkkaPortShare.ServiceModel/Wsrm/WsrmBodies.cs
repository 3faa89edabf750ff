using System.ServiceModel.Channels;
using System.Xml;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <param name="OfferIdentifier">The sequence the client offers for the service's replies (duplex and request/reply).</param>
/// <param name="OfferEndpoint">1.1 only: must equal AcksTo.</param>
internal sealed record CreateSequenceRequest(string AcksTo, string? OfferIdentifier, string? OfferEndpoint, string? IncompleteSequenceBehavior);

/// <summary>Reads and writes the bodies of WS-RM's infrastructure messages.</summary>
internal static class WsrmBodies
{
    private const string AddressingNamespace = "http://www.w3.org/2005/08/addressing";

    public static CreateSequenceRequest ReadCreateSequence(XmlDictionaryReader reader, WsrmVersion version)
    {
        reader.ReadStartElement("CreateSequence", version.Namespace);
        string? acksTo = null, offerId = null, offerEndpoint = null, behavior = null;
        while (reader.MoveToContent() == XmlNodeType.Element)
        {
            if (reader.NamespaceURI != version.Namespace)
            {
                reader.Skip();
                continue;
            }
            switch (reader.LocalName)
            {
                case "AcksTo":
                    acksTo = ReadEndpointAddress(reader);
                    break;
                case "Offer":
                    reader.ReadStartElement();
                    while (reader.MoveToContent() == XmlNodeType.Element)
                    {
                        if (reader.LocalName == "Identifier") offerId = reader.ReadElementContentAsString().Trim();
                        else if (reader.LocalName == "Endpoint") offerEndpoint = ReadEndpointAddress(reader);
                        else if (reader.LocalName == "IncompleteSequenceBehavior") behavior = reader.ReadElementContentAsString().Trim();
                        else reader.Skip();
                    }
                    reader.ReadEndElement();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new CreateSequenceRequest(acksTo ?? throw new XmlException("CreateSequence has no AcksTo"), offerId, offerEndpoint, behavior);
    }

    /// <summary>Reads the Identifier of a TerminateSequence or CloseSequence body (and LastMsgNumber in 1.1).</summary>
    public static (string Identifier, long? LastMessageNumber) ReadSequenceReference(XmlDictionaryReader reader, WsrmVersion version)
    {
        reader.MoveToContent();
        reader.ReadStartElement();
        string? id = null;
        long? last = null;
        while (reader.MoveToContent() == XmlNodeType.Element)
        {
            if (reader.LocalName == "Identifier" && reader.NamespaceURI == version.Namespace) id = reader.ReadElementContentAsString().Trim();
            else if (reader.LocalName == "LastMsgNumber" && reader.NamespaceURI == version.Namespace) last = reader.ReadElementContentAsLong();
            else reader.Skip();
        }
        return (id ?? throw new XmlException("No sequence Identifier"), last);
    }

    public static BodyWriter CreateSequenceResponse(WsrmVersion version, string identifier, string? acceptAcksTo, bool ordered) =>
        new Body(writer =>
        {
            writer.WriteStartElement("r", "CreateSequenceResponse", version.Namespace);
            writer.WriteElementString("Identifier", version.Namespace, identifier);
            if (version.Is11)
                writer.WriteElementString("IncompleteSequenceBehavior", version.Namespace,
                    ordered ? "DiscardFollowingFirstGap" : "NoDiscard");
            if (acceptAcksTo is not null)
            {
                writer.WriteStartElement("Accept", version.Namespace);
                writer.WriteStartElement("AcksTo", version.Namespace);
                writer.WriteElementString("a", "Address", AddressingNamespace, acceptAcksTo);
                writer.WriteEndElement();
                writer.WriteEndElement();
            }
            writer.WriteEndElement();
        });

    /// <summary>TerminateSequence, CloseSequence and their 1.1 responses: an Identifier and, optionally, the last number.</summary>
    public static BodyWriter SequenceReference(string element, WsrmVersion version, string identifier, long? lastMessageNumber = null) =>
        new Body(writer =>
        {
            writer.WriteStartElement("r", element, version.Namespace);
            writer.WriteElementString("Identifier", version.Namespace, identifier);
            if (lastMessageNumber is { } last && version.Is11)
            {
                writer.WriteStartElement("LastMsgNumber", version.Namespace);
                writer.WriteValue(last);
                writer.WriteEndElement();
            }
            writer.WriteEndElement();
        });

    public static BodyWriter Empty { get; } = new Body(_ => { });

    private static string ReadEndpointAddress(XmlDictionaryReader reader)
    {
        reader.ReadStartElement();
        string? address = null;
        while (reader.MoveToContent() == XmlNodeType.Element)
        {
            if (reader.LocalName == "Address") address = reader.ReadElementContentAsString().Trim();
            else reader.Skip();
        }
        reader.ReadEndElement();
        return address ?? "";
    }

    private sealed class Body(Action<XmlDictionaryWriter> write) : BodyWriter(isBuffered: true)
    {
        protected override void OnWriteBodyContents(XmlDictionaryWriter writer) => write(writer);
    }
}
