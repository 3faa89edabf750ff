using System.Reflection;
using System.ServiceModel;
using System.ServiceModel.Description;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Instancing;

/// <summary>
/// Calls a contract's operations on a service object, in whichever of WCF's three shapes the contract declares them:
/// synchronous, Task-based, or Begin/End. Every call runs on the thread pool, never on the actor's thread: a
/// synchronous operation may block, and a Task-based one may do blocking work before its first await.
/// The answer is what the SOAP layer expects of an implementation actor: <see cref="OperationResult"/>,
/// <see cref="OperationFault"/> (a FaultException), or a <see cref="ServiceFailure"/> (any other exception).
/// </summary>
internal sealed class ServiceOperationInvoker
{
    private sealed record Operation(string Name, string Action, bool IsOneWay, MethodInfo? Sync, MethodInfo? Task, MethodInfo? Begin, MethodInfo? End);

    private readonly Dictionary<string, Operation> _operations = new(StringComparer.Ordinal);
    private readonly ServiceBehavior _behavior;
    private readonly CallbackChannels? _callbacks;

    /// <param name="callbacks">A duplex contract's callback channels: each call then runs with an OperationContext.</param>
    public ServiceOperationInvoker(Type contractType, ServiceBehavior behavior, CallbackChannels? callbacks = null)
    {
        _behavior = behavior;
        _callbacks = callbacks;
        foreach (var o in ContractDescription.GetContract(contractType).Operations)
        {
            if (o.Messages[0].Direction != MessageDirection.Input) continue; // the callback contract's
            _operations[o.Name] = new Operation(o.Name, o.Messages[0].Action, o.IsOneWay, o.SyncMethod, o.TaskMethod, o.BeginMethod, o.EndMethod);
        }
    }

    public bool IsOneWay(string operation) => _operations.TryGetValue(operation, out var o) && o.IsOneWay;

    /// <summary>Runs the operation; never throws (a failure is the answer).</summary>
    /// <param name="instanceActor">The instance's actor: callbacks made by the call reach it (see ServiceCallScope).</param>
    /// <param name="instanceStopped">Cancelled when that actor stops.</param>
    public async Task<object> InvokeAsync(object instance, OperationInvoked invoked, Akka.Actor.IActorRef instanceActor,
        CancellationToken instanceStopped = default)
    {
        if (!_operations.TryGetValue(invoked.Operation, out var operation))
            return new ServiceFailure($"The service has no operation {invoked.Operation}.", null);
        try
        {
            // A copy: Invoke writes the out and ref parameters' values back into the array it is given.
            var arguments = (object?[])invoked.Arguments.Clone();
            var context = _callbacks?.ContextFor(invoked, operation.Action);
            var result = await System.Threading.Tasks.Task.Run(async () =>
            {
                // OperationContext.Current flows through the operation's awaits (an AsyncLocal), and only there.
                OperationContext.Current = context;
                ServiceCallScope.Current = new ServiceCallScope(instanceActor, invoked.SessionId, _behavior.Concurrency, instanceStopped);
                return await CallAsync(instance, operation, arguments).ConfigureAwait(false);
            }).ConfigureAwait(false);
            return new OperationResult(result) { Outputs = Outputs(operation, arguments) };
        }
        catch (Exception e)
        {
            return Failure(e is TargetInvocationException { InnerException: { } inner } ? inner : e);
        }
    }

    private static async Task<object?> CallAsync(object instance, Operation operation, object?[] arguments)
    {
        if (operation.Sync is { } sync) return Unwrapped(() => sync.Invoke(instance, arguments));
        if (operation.Task is { } taskMethod)
        {
            var task = (Task)Unwrapped(() => taskMethod.Invoke(instance, arguments))!;
            await task.ConfigureAwait(false);
            return taskMethod.ReturnType.IsGenericType ? task.GetType().GetProperty("Result")!.GetValue(task) : null;
        }
        // Begin/End (AsyncPattern = true): Begin gets the arguments, a callback and a state; End gives the result.
        var begin = operation.Begin!;
        var end = operation.End!;
        var done = new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously);
        AsyncCallback callback = ar =>
        {
            try
            {
                done.TrySetResult(Unwrapped(() => end.Invoke(instance, [ar])));
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        };
        Unwrapped(() => begin.Invoke(instance, [.. arguments, callback, null]));
        return await done.Task.ConfigureAwait(false);
    }

    // Out and ref parameters, in declaration order (only synchronous operations have them).
    private static object?[]? Outputs(Operation operation, object?[] arguments)
    {
        if (operation.Sync is not { } sync) return null;
        var byRef = sync.GetParameters().Where(p => p.ParameterType.IsByRef && p.Position < arguments.Length).ToList();
        return byRef.Count == 0 ? null : byRef.Select(p => arguments[p.Position]).ToArray();
    }

    private static object? Unwrapped(Func<object?> call)
    {
        try
        {
            return call();
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw; // unreachable
        }
    }

    /// <summary>
    /// WCF's mapping: a FaultException (typed or not) is the service's own fault, sent as it is; anything else is an
    /// internal error whose text reaches the client only with IncludeExceptionDetailInFaults.
    /// </summary>
    internal object Failure(Exception e)
    {
        if (e is FaultException fault)
        {
            var detail = fault.GetType().IsGenericType ? fault.GetType().GetProperty("Detail")?.GetValue(fault) : null;
            return new OperationFault(fault.Reason.ToString(), CodeOf(fault.Code), detail);
        }
        return new ServiceFailure(_behavior.IncludeExceptionDetailInFaults ? e.Message : ServiceFailure.HiddenReason, e);
    }

    // OperationFault's code is the subcode under Sender (what FaultException's code names when it is a sender fault).
    private static string? CodeOf(FaultCode? code) => code switch
    {
        null => null,
        { SubCode: { } sub } => sub.Name,
        { Name: "Sender" or "Client" or "Receiver" or "Server" } => null,
        _ => code.Name,
    };
}

/// <summary>
/// A service operation threw something other than a FaultException: the client gets WCF's internal-error fault with
/// <see cref="Exception.Message"/> as its reason, which is the exception's own text only when the service includes
/// exception detail in faults.
/// </summary>
internal sealed class ServiceFailure(string reason, Exception? cause) : Exception(reason, cause)
{
    public const string HiddenReason =
        "The server was unable to process the request due to an internal error.  For more information about the error, " +
        "either turn on IncludeExceptionDetailInFaults (either from ServiceBehaviorAttribute or from the <serviceDebug> " +
        "configuration behavior) on the server in order to send the exception information back to the client, or turn on " +
        "tracing as per the Microsoft .NET Framework SDK documentation and inspect the server trace logs.";
}
