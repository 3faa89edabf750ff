using System.ServiceModel;
using System.ServiceModel.Description;

namespace AkkaPortShare.ServiceModel.Instancing;

/// <summary>
/// The callback contract of a duplex service contract, described as a contract of its own so that WCF's
/// ChannelFactory can make a typed proxy of it. WCF describes callback operations inside the service contract, with
/// their messages the other way round (the call goes out); and a callback interface needs no [ServiceContract], which
/// ContractDescription.GetContract requires. So the operations are copied with their messages turned round: the same
/// actions, wrappers, parts, faults and serializer as the service side's description, so the proxy writes exactly
/// what a WCF service's callback channel writes.
/// </summary>
internal static class CallbackContract
{
    /// <summary>The callback contract of <paramref name="contractType"/>, or null when it has none.</summary>
    public static ContractDescription? For(Type contractType)
    {
        var service = ContractDescription.GetContract(contractType);
        if (service.CallbackContractType is not { } callbackType) return null;
        var callback = new ContractDescription(callbackType.Name, service.Namespace) { ContractType = callbackType };
        // WCF's own contract behaviours (internal): the one that maps a proxy's methods to its operations is among them,
        // and it reads the description it is applied to, so it serves the callback contract's proxy as well.
        foreach (var behavior in service.ContractBehaviors) callback.ContractBehaviors.Add(behavior);
        foreach (var operation in service.Operations)
        {
            if (operation.Messages[0].Direction != MessageDirection.Output) continue; // the service's own operations
            var turned = new OperationDescription(operation.Name, callback)
            {
                SyncMethod = operation.SyncMethod,
                TaskMethod = operation.TaskMethod,
                BeginMethod = operation.BeginMethod,
                EndMethod = operation.EndMethod,
            };
            // Internal in the client packages; the proxy makes a Task<T> callback's result task from it.
            TaskResult?.SetValue(turned, TaskResult.GetValue(operation));
            turned.Messages.Add(Turned(operation.Messages[0], MessageDirection.Input));
            if (operation.Messages.Count > 1) turned.Messages.Add(Turned(operation.Messages[1], MessageDirection.Output));
            foreach (var fault in operation.Faults) turned.Faults.Add(fault);
            foreach (var known in operation.KnownTypes) turned.KnownTypes.Add(known);
            var format = operation.OperationBehaviors.OfType<DataContractSerializerOperationBehavior>().FirstOrDefault()?.DataContractFormatAttribute;
            turned.OperationBehaviors.Add(new DataContractSerializerOperationBehavior(turned, format ?? new DataContractFormatAttribute()));
            callback.Operations.Add(turned);
        }
        return callback;
    }

    private static readonly System.Reflection.PropertyInfo? TaskResult = typeof(OperationDescription).GetProperty("TaskTResult",
        System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public);

    private static MessageDescription Turned(MessageDescription message, MessageDirection direction)
    {
        var turned = new MessageDescription(message.Action, direction);
        turned.Body.WrapperName = message.Body.WrapperName;
        turned.Body.WrapperNamespace = message.Body.WrapperNamespace;
        turned.Body.ReturnValue = message.Body.ReturnValue;
        foreach (var part in message.Body.Parts) turned.Body.Parts.Add(part);
        return turned;
    }
}
