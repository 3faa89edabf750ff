using System.Runtime.Serialization;
using System.ServiceModel.Description;

namespace AkkaPortShare.ServiceModel.Contracts;

/// <summary>One message part (a parameter or a return value) and the serializer WCF would use for it.</summary>
internal sealed record MessagePart(string Name, string Namespace, Type Type)
{
    public DataContractSerializer Serializer { get; } = new(Type, Name, Namespace);
}

internal sealed record FaultMap(Type DetailType, string Action);

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
    IReadOnlyList<FaultMap> Faults);

/// <summary>
/// The operations of a [ServiceContract] (by request action) and of its callback contract (by name), read from
/// WCF's own <see cref="ContractDescription"/> so names, namespaces and actions are exactly what the client
/// sends. Only the default style (document/literal, wrapped, DataContractSerializer) is supported.
/// </summary>
internal sealed class ContractMap
{
    private readonly Dictionary<string, OperationMap> _byAction = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OperationMap> _callbacks = new(StringComparer.Ordinal);

    public string ContractName { get; }

    private ContractMap(string contractName) => ContractName = contractName;

    public static ContractMap For(Type contractType)
    {
        var description = ContractDescription.GetContract(contractType);
        var map = new ContractMap(description.Name);
        foreach (var operation in description.Operations)
        {
            var mapped = Map(operation);
            // Operations whose first message goes out belong to the callback contract.
            if (operation.Messages[0].Direction == MessageDirection.Input) map._byAction[mapped.Action] = mapped;
            else map._callbacks[mapped.Name] = mapped;
        }
        return map;
    }

    public bool TryGetOperation(string action, out OperationMap? operation) => _byAction.TryGetValue(action, out operation);

    public bool TryGetCallback(string name, out OperationMap? operation) => _callbacks.TryGetValue(name, out operation);

    private static OperationMap Map(OperationDescription operation)
    {
        var first = operation.Messages[0];
        if (first.Body.WrapperName is null || first.MessageType is not null)
            throw new NotSupportedException(
                $"Operation {operation.Name}: only wrapped data-contract operations are supported, not message contracts.");
        var second = operation.Messages.Count > 1 ? operation.Messages[1] : null;
        if (second is { Body.Parts.Count: > 0 })
            throw new NotSupportedException(
                $"Operation {operation.Name}: out and ref parameters are not supported; return a data contract instead.");
        var result = second?.Body.ReturnValue is { Type: var type } r && type != typeof(void)
            ? new MessagePart(r.Name, r.Namespace, type)
            : null;
        return new OperationMap(
            operation.Name,
            first.Action,
            operation.IsOneWay,
            first.Body.WrapperName,
            first.Body.WrapperNamespace,
            first.Body.Parts.Select(p => new MessagePart(p.Name, p.Namespace, p.Type)).ToList(),
            second?.Action,
            second?.Body.WrapperName,
            second?.Body.WrapperNamespace,
            result,
            operation.Faults.Select(f => new FaultMap(f.DetailType, f.Action)).ToList());
    }
}
