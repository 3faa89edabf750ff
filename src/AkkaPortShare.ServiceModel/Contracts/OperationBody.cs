using System.ServiceModel.Channels;
using System.Xml;

namespace AkkaPortShare.ServiceModel.Contracts;

/// <summary>
/// Reads and writes an operation's wrapped body: <c>&lt;Op&gt;&lt;param&gt;…&lt;/param&gt;…&lt;/Op&gt;</c> for
/// requests, <c>&lt;OpResponse&gt;&lt;OpResult&gt;…&lt;/OpResult&gt;&lt;/OpResponse&gt;</c> for replies.
/// </summary>
internal static class OperationBody
{
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
                arguments[i] = parts[i].Serializer.ReadObject(reader, verifyObjectName: false);
        }
        return arguments;
    }

    public static object? ReadResult(XmlDictionaryReader reader, OperationMap operation)
    {
        if (operation.Result is null) return null;
        reader.MoveToContent();
        reader.ReadStartElement(operation.ReplyWrapperName!, operation.ReplyWrapperNamespace!);
        reader.MoveToContent();
        return reader.IsStartElement(operation.Result.Name, operation.Result.Namespace)
            ? operation.Result.Serializer.ReadObject(reader, verifyObjectName: false)
            : null;
    }

    public static BodyWriter Request(OperationMap operation, object?[] arguments) =>
        new Writer(operation.WrapperName, operation.WrapperNamespace, operation.Parts, arguments);

    public static BodyWriter Reply(OperationMap operation, object? result) =>
        new Writer(operation.ReplyWrapperName!, operation.ReplyWrapperNamespace!,
            operation.Result is null ? [] : [operation.Result], operation.Result is null ? [] : [result]);

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
}
