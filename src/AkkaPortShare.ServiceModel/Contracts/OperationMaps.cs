using System.Reflection;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.ServiceModel.Description;

namespace AkkaPortShare.ServiceModel.Contracts;

/// <summary>
/// Maps WCF's description of one operation to an <see cref="OperationMap"/>, or throws NotSupportedException naming
/// the operation and what about it the worker cannot serve (the contract map then refuses that operation alone).
/// </summary>
internal static class OperationMaps
{
    public static OperationMap Map(OperationDescription operation, Type contractType)
    {
        var method = operation.SyncMethod ?? operation.TaskMethod ?? operation.BeginMethod;
        var xml = FormatOf<XmlSerializerFormatAttribute>(method, contractType);
        if (xml is { Style: OperationFormatStyle.Rpc } || xml is { Use: OperationFormatUse.Encoded })
            throw Refused(operation, "[XmlSerializerFormat] with Style = Rpc or Use = Encoded is not supported; only document/literal");
        if (FormatOf<DataContractFormatAttribute>(method, contractType) is { Style: OperationFormatStyle.Rpc })
            throw Refused(operation, "[DataContractFormat(Style = Rpc)] is not supported; only the document style");
        var knownTypes = operation.KnownTypes.ToList();

        var first = operation.Messages[0];
        var second = operation.Messages.Count > 1 ? operation.Messages[1] : null;
        var request = Shape(operation, first, xml is not null);
        var reply = second is null ? BodyShape.Wrapped : Shape(operation, second, xml is not null);

        var outputs = new List<MessagePart>();
        (int, IReadOnlyList<int>)? positions = null;
        if (second is { MessageType: null } && second.Body.Parts.Count > 0 && reply != BodyShape.Untyped)
        {
            if (xml is not null) throw Refused(operation, "out and ref parameters of an [XmlSerializerFormat] operation are not supported");
            if (operation.SyncMethod is not { } sync)
                throw Refused(operation, "out and ref parameters are supported on synchronous operations only");
            outputs.AddRange(second.Body.Parts.Select(p => Part(p, knownTypes)));
            positions = Positions(operation, sync, first.Body.Parts.Count);
        }

        var parts = request == BodyShape.Wrapped || request == BodyShape.XmlWrapped
            ? first.Body.Parts.Select(p => Part(p, knownTypes)).ToList()
            : [];
        if (xml is not null && parts.Any(p => p.Type == typeof(Stream)))
            throw Refused(operation, "a Stream parameter of an [XmlSerializerFormat] operation is not supported");
        var result = second?.Body.ReturnValue is { Type: var type } r && type != typeof(void) && reply != BodyShape.Untyped
            ? Part(r, knownTypes)
            : null;
        var map = new OperationMap(
            operation.Name,
            first.Action,
            operation.IsOneWay,
            first.Body.WrapperName ?? "",
            first.Body.WrapperNamespace ?? "",
            parts,
            second?.Action,
            second?.Body.WrapperName,
            second?.Body.WrapperNamespace,
            result,
            operation.Faults.Select(f => new FaultMap(f.DetailType, f.Action)).ToList())
        {
            OutputParts = outputs,
            Arguments = positions,
            RequestShape = request,
            ReplyShape = reply,
            RequestContract = request == BodyShape.MessageContract ? Contract(operation, first, knownTypes) : null,
            ReplyContract = second is not null && reply == BodyShape.MessageContract ? Contract(operation, second, knownTypes) : null,
        };
        if (xml is null) return map;
        return map with
        {
            RequestXml = request == BodyShape.XmlWrapped ? new XmlMembers(map.WrapperName, map.WrapperNamespace, parts) : null,
            ReplyXml = second is not null && reply == BodyShape.XmlWrapped
                ? new XmlMembers(map.ReplyWrapperName!, map.ReplyWrapperNamespace!, result is null ? [] : [result])
                : null,
        };
    }

    /// <summary>Where each request part (the in and ref parameters, in order) sits among the method's parameters.</summary>
    private static (int, IReadOnlyList<int>) Positions(OperationDescription operation, MethodInfo method, int requestParts)
    {
        var parameters = method.GetParameters();
        var inputs = parameters.Where(p => !p.IsOut || !p.ParameterType.IsByRef || p.IsIn).Select(p => p.Position).ToList();
        if (inputs.Count != requestParts)
            throw Refused(operation, "its parameters do not match WCF's description of its request");
        return (parameters.Length, inputs);
    }

    private static BodyShape Shape(OperationDescription operation, MessageDescription message, bool xml)
    {
        var body = message.Body;
        if ((body.Parts.Count == 1 && body.Parts[0].Type == typeof(Message) && (body.ReturnValue is null || body.ReturnValue.Type == typeof(void)))
            || (body.Parts.Count == 0 && body.ReturnValue?.Type == typeof(Message)))
            return BodyShape.Untyped;
        if (body.Parts.Any(p => p.Type == typeof(Message)))
            throw Refused(operation, "a Message parameter must be the only one (an untyped operation takes and returns Message only)");
        if (message.MessageType is not null)
        {
            if (xml) throw Refused(operation, "a [MessageContract] of an [XmlSerializerFormat] operation is not supported");
            return BodyShape.MessageContract;
        }
        if (body.WrapperName is null) throw Refused(operation, "an unwrapped body without a [MessageContract] is not supported");
        return xml ? BodyShape.XmlWrapped : BodyShape.Wrapped;
    }

    private static MessageContractMap Contract(OperationDescription operation, MessageDescription message, List<Type> knownTypes)
    {
        if (message.Properties.Count > 0)
            throw Refused(operation, $"[MessageProperty] members of {message.MessageType!.Name} are not supported");
        var headers = new List<ContractMember>();
        foreach (var header in message.Headers)
        {
            if (header.Multiple) throw Refused(operation, $"header {header.Name} of {message.MessageType!.Name} is an array of headers, not supported");
            headers.Add(new ContractMember(new MessagePart(header.Name, header.Namespace, header.Type, knownTypes),
                Member(operation, message, header), header.MustUnderstand));
        }
        var body = message.Body.Parts.Select(p => new ContractMember(Part(p, knownTypes), Member(operation, message, p))).ToList();
        if (body.Count > 1 && body.Any(b => b.Part.Type == typeof(Stream)))
            throw Refused(operation, $"a Stream body member of {message.MessageType!.Name} must be its only body member");
        return new MessageContractMap(message.MessageType!, message.Body.WrapperName, message.Body.WrapperNamespace, headers, body);
    }

    private static MemberInfo Member(OperationDescription operation, MessageDescription message, MessagePartDescription part) =>
        part.MemberInfo ?? throw Refused(operation, $"member {part.Name} of {message.MessageType!.Name} cannot be found");

    private static MessagePart Part(MessagePartDescription part, List<Type> knownTypes) =>
        new(part.Name, part.Namespace, part.Type, knownTypes.Count == 0 ? null : knownTypes);

    private static T? FormatOf<T>(MethodInfo? method, Type contractType) where T : Attribute =>
        method?.GetCustomAttribute<T>() ?? method?.DeclaringType?.GetCustomAttribute<T>() ?? contractType.GetCustomAttribute<T>();

    private static NotSupportedException Refused(OperationDescription operation, string why) =>
        new($"Operation {operation.Name}: {why}.");
}
