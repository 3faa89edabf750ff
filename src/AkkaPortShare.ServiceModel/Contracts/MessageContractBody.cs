using System.ServiceModel.Channels;
using System.Xml;

namespace AkkaPortShare.ServiceModel.Contracts;

/// <summary>
/// A [MessageContract] instance as WCF's DataContractSerializer formatter carries it: each [MessageHeader] member a
/// SOAP header of its own, the [MessageBodyMember]s in the body (inside the wrapper element unless IsWrapped = false),
/// in the order WCF's description gives.
/// </summary>
internal static class MessageContractBody
{
    /// <param name="streamed">A Stream body member (then the only one) is left unread, a stream over its content.</param>
    public static object Read(Message message, MessageContractMap contract, bool streamed)
    {
        var instance = Activator.CreateInstance(contract.Type, nonPublic: true)!;
        foreach (var header in contract.Headers)
        {
            var index = message.Headers.FindHeader(header.Part.Name, header.Part.Namespace);
            if (index < 0) continue; // a header the client left out keeps its default, as in WCF
            using (var reader = message.Headers.GetReaderAtHeader(index))
                header.Set(instance, header.Part.Serializer.ReadObject(reader, verifyObjectName: false));
            message.Headers.UnderstoodHeaders.Add(message.Headers[index]);
        }

        var body = message.GetReaderAtBodyContents();
        body.MoveToContent();
        if (contract.WrapperName is not null)
        {
            if (body.IsEmptyElement) return instance;
            body.ReadStartElement(contract.WrapperName, contract.WrapperNamespace ?? "");
        }
        foreach (var member in contract.Body)
        {
            body.MoveToContent();
            if (!body.IsStartElement(member.Part.Name, member.Part.Namespace)) continue;
            if (streamed && member.Part.Type == typeof(Stream))
            {
                var empty = body.IsEmptyElement;
                body.ReadStartElement();
                member.Set(instance, empty ? Stream.Null : new Base64ContentStream(body));
                break;
            }
            member.Set(instance, OperationBody.ReadPart(body, member.Part));
        }
        return instance;
    }

    public static Message Write(MessageVersion version, string? action, MessageContractMap contract, object? instance)
    {
        if (instance is not null && !contract.Type.IsInstanceOfType(instance))
            throw new InvalidCastException($"The reply must be a {contract.Type.Name}, not {instance.GetType().Name}.");
        var message = Message.CreateMessage(version, action, new Writer(contract, instance));
        if (instance is null) return message;
        foreach (var header in contract.Headers)
        {
            // WCF leaves a null header out; the client reads its default.
            if (header.Get(instance) is not { } value) continue;
            message.Headers.Add(MessageHeader.CreateHeader(header.Part.Name, header.Part.Namespace, value, header.Part.Serializer,
                header.MustUnderstand));
        }
        return message;
    }

    private sealed class Writer(MessageContractMap contract, object? instance) : BodyWriter(isBuffered: false)
    {
        private const int CopyChunk = 64 * 1024;

        protected override void OnWriteBodyContents(XmlDictionaryWriter writer)
        {
            if (contract.WrapperName is not null) writer.WriteStartElement(contract.WrapperName, contract.WrapperNamespace ?? "");
            if (instance is not null)
            {
                foreach (var member in contract.Body)
                {
                    var value = member.Get(instance);
                    if (value is Stream stream) WriteStream(writer, member.Part, stream);
                    else member.Part.Serializer.WriteObject(writer, value);
                }
            }
            if (contract.WrapperName is not null) writer.WriteEndElement();
        }

        private static void WriteStream(XmlDictionaryWriter writer, MessagePart part, Stream stream)
        {
            var buffer = new byte[CopyChunk];
            using (stream)
            {
                writer.WriteStartElement(part.Name, part.Namespace);
                for (int n; (n = stream.Read(buffer, 0, buffer.Length)) > 0;) writer.WriteBase64(buffer, 0, n);
                writer.WriteEndElement();
            }
        }
    }
}
