using System.Reflection;
using System.Runtime.Serialization;

namespace AkkaPortShare.ServiceModel.Contracts;

/// <summary>
/// One message part (a parameter, a return value, a header or a body member) and the serializer WCF would use for
/// it: the DataContractSerializer with the operation's known types ([ServiceKnownType]; [KnownType] on the data
/// contracts themselves the serializer finds alone).
/// </summary>
internal sealed record MessagePart(string Name, string Namespace, Type Type, IReadOnlyList<Type>? KnownTypes = null)
{
    public DataContractSerializer Serializer { get; } = new(Type, Name, Namespace, KnownTypes ?? []);
}

internal sealed record FaultMap(Type DetailType, string Action);

/// <summary>How one message of an operation is laid out.</summary>
internal enum BodyShape
{
    /// <summary>The default: a wrapper element named after the operation, one element per parameter (DataContractSerializer).</summary>
    Wrapped,
    /// <summary>[XmlSerializerFormat]: the same wrapper, the parameters written by the XmlSerializer.</summary>
    XmlWrapped,
    /// <summary>A [MessageContract] type: its [MessageHeader] members in SOAP headers, its [MessageBodyMember]s in the body.</summary>
    MessageContract,
    /// <summary>A <c>System.ServiceModel.Channels.Message</c> parameter or result: the message as it is.</summary>
    Untyped,
}

/// <summary>A [MessageContract] member and the part it travels as.</summary>
internal sealed record ContractMember(MessagePart Part, MemberInfo Member, bool MustUnderstand = false)
{
    public object? Get(object target) => Member is PropertyInfo p ? p.GetValue(target) : ((FieldInfo)Member).GetValue(target);

    public void Set(object target, object? value)
    {
        if (Member is PropertyInfo p) p.SetValue(target, value);
        else ((FieldInfo)Member).SetValue(target, value);
    }
}

/// <summary>A [MessageContract] type: its headers, and its body members inside the wrapper (when it is wrapped).</summary>
internal sealed record MessageContractMap(
    Type Type, string? WrapperName, string? WrapperNamespace, IReadOnlyList<ContractMember> Headers, IReadOnlyList<ContractMember> Body);

/// <summary>An operation as it travels: actions, the wrapper elements of its body, its parts.</summary>
internal sealed record OperationMap(
    string Name,
    string Action,
    bool IsOneWay,
    string WrapperName,
    string WrapperNamespace,
    IReadOnlyList<MessagePart> Parts,
    string? ReplyAction,
    string? ReplyWrapperName,
    string? ReplyWrapperNamespace,
    MessagePart? Result,
    IReadOnlyList<FaultMap> Faults)
{
    /// <summary>
    /// Out and ref parameters: the reply's parts after the result, in declaration order (OperationResult.Outputs).
    /// </summary>
    public IReadOnlyList<MessagePart> OutputParts { get; init; } = [];

    /// <summary>
    /// With out or ref parameters, the method's parameter count and where each request part goes among them
    /// (OperationInvoked.Arguments has one entry per parameter, out ones null); otherwise null (parts = parameters).
    /// </summary>
    public (int Count, IReadOnlyList<int> Positions)? Arguments { get; init; }

    /// <summary>[OperationContract(IsTerminating = true)]: the session ends once it has answered (see SessionRules).</summary>
    public bool IsTerminating { get; init; }

    public BodyShape RequestShape { get; init; } = BodyShape.Wrapped;
    public BodyShape ReplyShape { get; init; } = BodyShape.Wrapped;
    public MessageContractMap? RequestContract { get; init; }
    public MessageContractMap? ReplyContract { get; init; }
    public XmlMembers? RequestXml { get; init; }
    public XmlMembers? ReplyXml { get; init; }
}
