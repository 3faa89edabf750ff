using System.Reflection;
using System.ServiceModel.Description;
using Akka.Actor;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.TypedActors;

/// <summary>
/// How each method of a callback contract goes out as <see cref="InvokeCallback"/>: one-way ones are told, Task-based
/// request/reply ones asked, synchronous request/reply ones refused (an actor must not block on its client).
/// Built once per callback contract.
/// </summary>
internal sealed class CallbackOperations
{
    private static readonly MethodInfo TypedOf = typeof(CallbackOperations).GetMethod(nameof(Typed), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Name, one-way, and for a Task-based request/reply method the task the caller gets from the answer.</summary>
    private sealed record Operation(string Name, bool IsOneWay, bool ReturnsTask, Func<Task<object>, Task>? Answer);

    private readonly Dictionary<MethodInfo, Operation> _byMethod = new();

    public Type CallbackType { get; }

    private CallbackOperations(Type callbackType) => CallbackType = callbackType;

    public static CallbackOperations For(Type contractType, Type callbackType)
    {
        var table = new CallbackOperations(callbackType);
        foreach (var o in ContractDescription.GetContract(contractType).Operations)
        {
            if (o.Messages[0].Direction != MessageDirection.Output) continue; // the service's own
            if (o.SyncMethod is { } sync) table._byMethod[sync] = new Operation(o.Name, o.IsOneWay, false, null);
            if (o.TaskMethod is { } task)
                table._byMethod[task] = new Operation(o.Name, o.IsOneWay, true, o.IsOneWay ? null
                    : task.ReturnType.IsGenericType
                        ? (Func<Task<object>, Task>)TypedOf.MakeGenericMethod(task.ReturnType.GetGenericArguments()[0])
                            .CreateDelegate(typeof(Func<Task<object>, Task>))
                        : Untyped);
        }
        return table;
    }

    /// <summary>Calls <paramref name="method"/> of the client's callback contract through its session actor.</summary>
    public object? Invoke(MethodInfo method, object?[] arguments, IActorRef session, TimeSpan timeout)
    {
        if (!_byMethod.TryGetValue(method, out var operation))
            throw new NotSupportedException($"{CallbackType.Name}.{method.Name} is not an operation a contract actor can call " +
                                            "(Begin/End callbacks are not supported; use a Task-based one).");
        var call = new InvokeCallback(operation.Name, arguments);
        if (operation.IsOneWay)
        {
            session.Tell(call, ActorRefs.NoSender);
            return operation.ReturnsTask ? Task.CompletedTask : null;
        }
        if (!operation.ReturnsTask)
            // WCF refuses it too for a ConcurrencyMode.Single service: the reply could only come after the call ends.
            throw new InvalidOperationException(
                $"{CallbackType.Name}.{method.Name} is a synchronous request/reply callback: a contract actor cannot wait for its reply " +
                "without blocking its mailbox. Declare the callback operation Task-based (Task or Task<T>) and await it, or make it one-way.");
        return operation.Answer!(session.Ask<object>(call, timeout));
    }

    // The session answers OperationResult, or a Status.Failure whose cause (FaultException<T>, FaultException,
    // CommunicationObjectAbortedException) Ask throws as it is.
    private static async Task<T> Typed<T>(Task<object> answer) =>
        ((OperationResult)await answer.ConfigureAwait(false)).ReturnValue is T value ? value : default!;

    private static async Task Untyped(Task<object> answer) => await answer.ConfigureAwait(false);
}

/// <summary>
/// The typed proxy a contract actor calls its client's callback contract through (made by DispatchProxy.Create):
/// every call goes to <see cref="CallbackOperations.Invoke"/>.
/// </summary>
internal class CallbackProxy : DispatchProxy
{
    private CallbackOperations _operations = null!;
    private IActorRef _session = ActorRefs.Nobody;
    private TimeSpan _timeout;

    public static TCallback Create<TCallback>(CallbackOperations operations, IActorRef session, TimeSpan timeout) where TCallback : class
    {
        var proxy = DispatchProxy.Create<TCallback, CallbackProxy>();
        var self = (CallbackProxy)(object)proxy;
        (self._operations, self._session, self._timeout) = (operations, session, timeout);
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
        _operations.Invoke(targetMethod!, args ?? [], _session, _timeout);
}
