using System.ServiceModel;
using System.ServiceModel.Description;

namespace AkkaPortShare.ServiceModel.Contracts;

/// <summary>An operation of the contract the worker cannot serve, and why: refused alone, the others are served.</summary>
internal sealed record UnsupportedOperation(string Name, string Action, bool IsCallback, string Reason);

/// <summary>
/// The operations of a [ServiceContract] (by request action) and of its callback contract (by name), read from
/// WCF's own <see cref="ContractDescription"/> so names, namespaces and actions are exactly what the client
/// sends. An operation of a shape the worker cannot serve is kept aside with the reason (see
/// <see cref="Unsupported"/>): a call to it gets a fault saying so, never a silently wrong answer.
/// </summary>
internal sealed class ContractMap
{
    /// <summary>WCF's catch-all action: the operation gets every message no other operation matches.</summary>
    public const string AnyAction = "*";

    private readonly Dictionary<string, OperationMap> _byAction = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OperationMap> _callbacks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UnsupportedOperation> _unsupportedByAction = new(StringComparer.Ordinal);
    private readonly List<UnsupportedOperation> _unsupported = [];

    public string ContractName { get; }

    /// <summary>Operations (and callback operations) refused, each with the reason; logged when the endpoint starts.</summary>
    public IReadOnlyList<UnsupportedOperation> Unsupported => _unsupported;

    private ContractMap(string contractName) => ContractName = contractName;

    public static ContractMap For(Type contractType)
    {
        var description = ContractDescription.GetContract(contractType);
        var map = new ContractMap(description.Name);
        foreach (var operation in description.Operations)
        {
            // Operations whose first message goes out belong to the callback contract.
            var isCallback = operation.Messages[0].Direction == MessageDirection.Output;
            try
            {
                var mapped = OperationMaps.Map(operation, contractType) with { IsTerminating = IsTerminating(operation) };
                // Callbacks go out through CallbackCalls, which writes and reads the wrapped shapes only.
                if (isCallback && (mapped.RequestShape is BodyShape.MessageContract or BodyShape.Untyped
                                   || mapped.ReplyShape is BodyShape.MessageContract or BodyShape.Untyped
                                   || mapped.OutputParts.Count > 0))
                    throw new NotSupportedException(
                        $"Operation {operation.Name}: a callback operation with a [MessageContract], Message, or out and ref parameters is not supported.");
                if (isCallback) map._callbacks[mapped.Name] = mapped;
                else map._byAction[mapped.Action] = mapped;
            }
            catch (NotSupportedException e)
            {
                var refused = new UnsupportedOperation(operation.Name, operation.Messages[0].Action, isCallback, e.Message);
                map._unsupported.Add(refused);
                if (!isCallback) map._unsupportedByAction[refused.Action] = refused;
            }
        }
        return map;
    }

    // The client packages' reference assembly hides OperationDescription.IsTerminating: read the attribute it comes from.
    private static bool IsTerminating(OperationDescription operation) =>
        (operation.SyncMethod ?? operation.TaskMethod ?? operation.BeginMethod)?.GetCustomAttributes(typeof(OperationContractAttribute), false)
        is [OperationContractAttribute { IsTerminating: true }];

    /// <summary>The operation for a request's action; the catch-all ("*") operation, if any, for actions no other has.</summary>
    public bool TryGetOperation(string action, out OperationMap? operation) =>
        _byAction.TryGetValue(action, out operation)
        || (!_unsupportedByAction.ContainsKey(action) && action != AnyAction && _byAction.TryGetValue(AnyAction, out operation));

    /// <summary>True when <paramref name="action"/> is an operation of the contract that the worker refused.</summary>
    public bool TryGetUnsupported(string action, out UnsupportedOperation? operation)
    {
        if (_unsupportedByAction.TryGetValue(action, out operation)) return true;
        // A refused catch-all stands for every action no served operation has.
        return !_byAction.ContainsKey(action) && _unsupportedByAction.TryGetValue(AnyAction, out operation);
    }

    public bool TryGetCallback(string name, out OperationMap? operation) => _callbacks.TryGetValue(name, out operation);
}
