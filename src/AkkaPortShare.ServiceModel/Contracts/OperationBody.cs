using System.ServiceModel.Channels;
using System.Xml;

namespace AkkaPortShare.ServiceModel.Contracts;

/// <summary>
/// Reads and writes an operation's wrapped body: <c>&lt;Op&gt;&lt;param&gt;…&lt;/param&gt;…&lt;/Op&gt;</c> for
/// requests, <c>&lt;OpResponse&gt;&lt;OpResult&gt;…&lt;/OpResult&gt;&lt;/OpResponse&gt;</c> for replies.
/// </summary>
internal static class OperationBody
{
    /// <summary>
    /// The arguments of a request in the operation's shape: one per parameter for wrapped operations, the
    /// [MessageContract] instance, or the message itself (a buffered copy: the request is disposed after dispatch).
    /// <paramref name="streamed"/>: a Stream part or body member is left unread for the service (streamed transfer).
    /// </summary>
    public static object?[] ReadArguments(Message request, OperationMap operation, bool streamed = false) => operation.RequestShape switch
    {
        BodyShape.Untyped => [request.CreateBufferedCopy(int.MaxValue).CreateMessage()],
        BodyShape.MessageContract => [MessageContractBody.Read(request, operation.RequestContract!, streamed)],
        BodyShape.XmlWrapped => operation.RequestXml!.Read(request.GetReaderAtBodyContents()),
        _ => Placed(operation, streamed
            ? ReadStreamedArguments(request.GetReaderAtBodyContents(), operation)
            : ReadArguments(request.GetReaderAtBodyContents(), operation.WrapperName, operation.WrapperNamespace, operation.Parts)),
    };

    /// <summary>With out or ref parameters: the request's parts at their parameters' positions, out ones null.</summary>
    private static object?[] Placed(OperationMap operation, object?[] parts)
    {
        if (operation.Arguments is not var (count, positions)) return parts;
        var arguments = new object?[count];
        for (var i = 0; i < parts.Length; i++) arguments[positions[i]] = parts[i];
        return arguments;
    }

    /// <summary>The reply message to a request/reply operation's result, in the operation's shape.</summary>
    /// <param name="outputs">The out and ref parameters' values, in declaration order (missing ones are written null).</param>
    public static Message ReplyMessage(MessageVersion version, OperationMap operation, object? result, object?[]? outputs = null) =>
        operation.ReplyShape switch
    {
        BodyShape.Untyped => result as Message ?? Message.CreateMessage(version, operation.ReplyAction),
        BodyShape.MessageContract => MessageContractBody.Write(version, operation.ReplyAction, operation.ReplyContract!, result),
        _ when result is Stream stream => Message.CreateMessage(version, operation.ReplyAction, StreamReply(operation, stream)),
        _ => Message.CreateMessage(version, operation.ReplyAction, Reply(operation, result, outputs)),
    };

    public static object?[] ReadArguments(XmlDictionaryReader reader, string wrapperName, string wrapperNamespace,
        IReadOnlyList<MessagePart> parts)
    {
        var arguments = new object?[parts.Count];
        reader.MoveToContent();
        if (reader.IsEmptyElement)
        {
            reader.Read();
            return arguments;
        }
        reader.ReadStartElement(wrapperName, wrapperNamespace);
        for (var i = 0; i < parts.Count; i++)
        {
            reader.MoveToContent();
            // A part the client left out (null, or a missing optional parameter) keeps its default.
            if (reader.IsStartElement(parts[i].Name, parts[i].Namespace))
                arguments[i] = ReadParameter(reader, parts[i]);
        }
        return arguments;
    }

    // WCF's formatter names the parameter its serializer could not read (a reader quota passed, a bad value).
    private static object? ReadParameter(XmlDictionaryReader reader, MessagePart part)
    {
        try
        {
            return ReadPart(reader, part);
        }
        catch (Exception e) when (e is System.Runtime.Serialization.SerializationException or FormatException)
        {
            throw new System.Runtime.Serialization.SerializationException(
                $"There was an error while trying to deserialize parameter {part.Namespace}:{part.Name}. The InnerException " +
                $"message was '{e.Message}'.  Please see InnerException for more details.", e);
        }
    }

    /// <summary>
    /// One part at its element. A Stream part of a buffered message (WCF writes it as base64 content) is read into
    /// memory: the message is already whole, within the session's size limit.
    /// </summary>
    public static object? ReadPart(XmlDictionaryReader reader, MessagePart part)
    {
        if (part.Type != typeof(Stream)) return part.Serializer.ReadObject(reader, verifyObjectName: false);
        var content = new MemoryStream();
        if (reader.IsEmptyElement)
        {
            reader.Read();
            return content;
        }
        reader.ReadStartElement();
        new Base64ContentStream(reader).CopyTo(content);
        reader.MoveToContent();
        reader.ReadEndElement();
        content.Position = 0;
        return content;
    }

    /// <summary>
    /// Streamed mode: reads the arguments in order, and a <see cref="Stream"/> part (which WCF allows only as the
    /// last) as a stream over its content, left unread for the service.
    /// </summary>
    public static object?[] ReadStreamedArguments(XmlDictionaryReader reader, OperationMap operation)
    {
        var parts = operation.Parts;
        var arguments = new object?[parts.Count];
        reader.MoveToContent();
        if (reader.IsEmptyElement) return arguments;
        reader.ReadStartElement(operation.WrapperName, operation.WrapperNamespace);
        for (var i = 0; i < parts.Count; i++)
        {
            reader.MoveToContent();
            if (!reader.IsStartElement(parts[i].Name, parts[i].Namespace)) continue;
            if (parts[i].Type == typeof(Stream))
            {
                var empty = reader.IsEmptyElement;
                reader.ReadStartElement();
                arguments[i] = empty ? Stream.Null : new Base64ContentStream(reader);
                break;
            }
            arguments[i] = parts[i].Serializer.ReadObject(reader, verifyObjectName: false);
        }
        return arguments;
    }

    /// <summary>Streamed mode: a reply whose result is a stream, copied into the message as it is written.</summary>
    public static BodyWriter StreamReply(OperationMap operation, Stream result) => new StreamWriter(operation, result);

    public static object? ReadResult(XmlDictionaryReader reader, OperationMap operation)
    {
        if (operation.Result is null) return null;
        if (operation.ReplyXml is { } xml) return xml.Read(reader)[0];
        reader.MoveToContent();
        reader.ReadStartElement(operation.ReplyWrapperName!, operation.ReplyWrapperNamespace!);
        reader.MoveToContent();
        return reader.IsStartElement(operation.Result.Name, operation.Result.Namespace)
            ? operation.Result.Serializer.ReadObject(reader, verifyObjectName: false)
            : null;
    }

    public static BodyWriter Request(OperationMap operation, object?[] arguments) => operation.RequestXml is { } xml
        ? new XmlWriter(xml, operation.Parts.Select((_, i) => i < arguments.Length ? arguments[i] : null).ToArray())
        : new Writer(operation.WrapperName, operation.WrapperNamespace, operation.Parts, arguments);

    public static BodyWriter Reply(OperationMap operation, object? result, object?[]? outputs = null)
    {
        if (operation.ReplyXml is { } xml) return new XmlWriter(xml, operation.Result is null ? [] : [result]);
        // WCF's order: the return value, then the out and ref parameters as declared.
        IEnumerable<MessagePart> parts = operation.Result is null ? operation.OutputParts : [operation.Result, .. operation.OutputParts];
        var values = (operation.Result is null ? [] : new[] { result })
            .Concat(operation.OutputParts.Select((_, i) => outputs is not null && i < outputs.Length ? outputs[i] : null));
        return new Writer(operation.ReplyWrapperName!, operation.ReplyWrapperNamespace!, parts.ToList(), values.ToArray());
    }

    private sealed class Writer(string name, string ns, IReadOnlyList<MessagePart> parts, object?[] values)
        : BodyWriter(isBuffered: true)
    {
        protected override void OnWriteBodyContents(XmlDictionaryWriter writer)
        {
            writer.WriteStartElement(name, ns);
            for (var i = 0; i < parts.Count; i++)
                parts[i].Serializer.WriteObject(writer, i < values.Length ? values[i] : null);
            writer.WriteEndElement();
        }
    }

    private sealed class XmlWriter(XmlMembers members, object?[] values) : BodyWriter(isBuffered: true)
    {
        protected override void OnWriteBodyContents(XmlDictionaryWriter writer) => members.Write(writer, values);
    }

    private sealed class StreamWriter(OperationMap operation, Stream result) : BodyWriter(isBuffered: false)
    {
        private const int CopyChunk = 64 * 1024;

        protected override void OnWriteBodyContents(XmlDictionaryWriter writer)
        {
            // The unit of one base64 write, not a bound: the reply pipe (streamed-reply-buffer) bounds what waits.
            var buffer = new byte[CopyChunk];
            using (result)
            {
                writer.WriteStartElement(operation.ReplyWrapperName!, operation.ReplyWrapperNamespace!);
                writer.WriteStartElement(operation.Result!.Name, operation.Result.Namespace);
                for (int n; (n = result.Read(buffer, 0, buffer.Length)) > 0;) writer.WriteBase64(buffer, 0, n);
                writer.WriteEndElement();
                writer.WriteEndElement();
            }
        }
    }
}
