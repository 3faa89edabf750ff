using System.Xml;
using System.Xml.Serialization;

namespace AkkaPortShare.ServiceModel.Contracts;

/// <summary>
/// The wrapped body of an [XmlSerializerFormat] operation, written and read as WCF's XmlSerializerOperationFormatter
/// does: one XmlSerializer over a members mapping (the wrapper element, one member per parameter).
/// </summary>
internal sealed class XmlMembers
{
    private readonly XmlSerializer _serializer;
    private readonly int _count;

    public XmlMembers(string wrapperName, string wrapperNamespace, IReadOnlyList<MessagePart> parts)
    {
        var members = parts.Select(p => new XmlReflectionMember
        {
            MemberName = p.Name,
            MemberType = p.Type,
            XmlAttributes = new XmlAttributes { XmlElements = { new XmlElementAttribute(p.Name) { Namespace = p.Namespace } } },
        }).ToArray();
        var mapping = new XmlReflectionImporter(wrapperNamespace).ImportMembersMapping(
            wrapperName, wrapperNamespace, members, hasWrapperElement: true);
        _serializer = XmlSerializer.FromMappings([mapping])[0];
        _count = parts.Count;
    }

    public object?[] Read(XmlDictionaryReader reader)
    {
        reader.MoveToContent();
        var values = (object?[]?)_serializer.Deserialize(reader) ?? [];
        // Missing trailing members come back as a shorter array: pad with defaults (nulls), as for the wrapped style.
        if (values.Length < _count) Array.Resize(ref values, _count);
        return values;
    }

    public void Write(XmlDictionaryWriter writer, object?[] values) => _serializer.Serialize(writer, values);
}
