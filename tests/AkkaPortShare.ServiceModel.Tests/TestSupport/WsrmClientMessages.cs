using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Wsrm;

namespace AkkaPortShare.ServiceModel.Tests.TestSupport;

/// <summary>
/// The WS-RM messages a WCF client sends on a reliable session (NetTcpBinding: SOAP 1.2, WS-Addressing 1.0), built
/// with the codec, for specs that play the client against the reliable-session actors.
/// </summary>
internal static class WsrmClientMessages
{
    public const string Anonymous = "http://www.w3.org/2005/08/addressing/anonymous";
    private const string Addressing = "http://www.w3.org/2005/08/addressing";
    public static readonly MessageVersion Soap = MessageVersion.Soap12WSAddressing10;

    public static string NewId() => $"urn:uuid:{Guid.NewGuid()}";

    /// <summary>A CreateSequence as WCF's ReliableRequestor sends it: MessageID and To, anonymous AcksTo, an Offer.</summary>
    /// <param name="offerId">Null: no Offer (a client with nothing to receive).</param>
    /// <param name="offerEndpoint">1.1: the Offer's Endpoint, which WCF requires to equal AcksTo (anonymous).</param>
    public static Message CreateSequence(WsrmVersion version, Uri to, string? offerId, UniqueId? messageId = null,
        string offerEndpoint = Anonymous)
    {
        var message = Message.CreateMessage(Soap, version.CreateSequenceAction, new CreateSequenceBody(version, offerId, offerEndpoint));
        message.Headers.MessageId = messageId ?? new UniqueId();
        message.Headers.To = to;
        return message;
    }

    /// <summary>A request of <paramref name="operation"/> as message <paramref name="number"/> of the client's sequence.</summary>
    public static Message Request(WsrmVersion version, Uri to, string sequenceId, long number, OperationMap operation,
        params object?[] arguments)
    {
        var message = Message.CreateMessage(Soap, operation.Action, OperationBody.Request(operation, arguments));
        message.Headers.MessageId = new UniqueId();
        message.Headers.ReplyTo = new EndpointAddress(Anonymous);
        message.Headers.To = to;
        message.Headers.Insert(0, WsrmHeaders.Sequence(version, sequenceId, number, lastMessage: false));
        message.Headers.Insert(1, WsrmHeaders.AckRequested(version, sequenceId));
        return message;
    }

    public static Message TerminateSequence(WsrmVersion version, string sequenceId) =>
        Message.CreateMessage(Soap, version.TerminateSequenceAction, WsrmBodies.SequenceReference("TerminateSequence", version, sequenceId));

    private sealed class CreateSequenceBody(WsrmVersion version, string? offerId, string offerEndpoint) : BodyWriter(isBuffered: true)
    {
        protected override void OnWriteBodyContents(XmlDictionaryWriter writer)
        {
            var ns = version.Namespace;
            writer.WriteStartElement("r", "CreateSequence", ns);
            writer.WriteStartElement("AcksTo", ns);
            writer.WriteElementString("a", "Address", Addressing, Anonymous);
            writer.WriteEndElement();
            if (offerId is not null)
            {
                writer.WriteStartElement("Offer", ns);
                writer.WriteElementString("Identifier", ns, offerId);
                if (version.Is11)
                {
                    writer.WriteStartElement("Endpoint", ns);
                    writer.WriteElementString("a", "Address", Addressing, offerEndpoint);
                    writer.WriteEndElement();
                    writer.WriteElementString("IncompleteSequenceBehavior", ns, "DiscardFollowingFirstGap");
                }
                writer.WriteEndElement();
            }
            writer.WriteEndElement();
        }
    }
}
