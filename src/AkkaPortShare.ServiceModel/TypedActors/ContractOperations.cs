using System.Linq.Expressions;
using System.Reflection;
using System.ServiceModel.Description;

namespace AkkaPortShare.ServiceModel.TypedActors;

/// <summary>
/// One operation of a contract as a <see cref="ContractActor{TContract}"/> calls it: a delegate compiled once from
/// the contract's method, so a call costs an interface call and the argument casts, never a reflection Invoke.
/// </summary>
internal sealed record ContractOperation(string Name, bool IsOneWay)
{
    /// <summary>A synchronous method: its result (null for void). Writes out and ref values back into the array.</summary>
    public Func<object, object?[], object?>? Sync { get; init; }

    /// <summary>A Task-based method: the task it returned.</summary>
    public Func<object, object?[], Task>? Async { get; init; }

    /// <summary>Task&lt;T&gt;: reads the result of the completed task (null for a plain Task).</summary>
    public Func<Task, object?>? AsyncResult { get; init; }

    /// <summary>Out and ref parameters' positions, in declaration order (OperationResult.Outputs).</summary>
    public IReadOnlyList<int> ByRef { get; init; } = [];

    /// <summary>Why the actor cannot run it (Begin/End); a call is answered with a fault saying so.</summary>
    public string? NotSupported { get; init; }
}

/// <summary>The service operations of a contract, by operation name (what OperationInvoked names), built once per contract.</summary>
internal sealed class ContractOperations
{
    private static readonly MethodInfo ResultOf = typeof(ContractOperations).GetMethod(nameof(Result), BindingFlags.NonPublic | BindingFlags.Static)!;
    private readonly Dictionary<string, ContractOperation> _byName;

    public Type ContractType { get; }

    /// <summary>The contract's callback contract (null when it is not duplex).</summary>
    public Type? CallbackType { get; }

    private ContractOperations(Type contractType, Type? callbackType, Dictionary<string, ContractOperation> byName) =>
        (ContractType, CallbackType, _byName) = (contractType, callbackType, byName);

    private readonly Instancing.ServiceOperationInvoker?[] _faults = new Instancing.ServiceOperationInvoker?[2];

    /// <summary>
    /// An exception of an operation as the client gets it, mapped exactly as for service classes (ServeService):
    /// FaultException (typed or not) as that fault, anything else as WCF's internal-error fault.
    /// </summary>
    public object Failure(Exception e, bool includeExceptionDetailInFaults)
    {
        ref var mapper = ref _faults[includeExceptionDetailInFaults ? 1 : 0];
        mapper ??= new Instancing.ServiceOperationInvoker(ContractType, Instancing.ServiceBehavior.Default with
        {
            IncludeExceptionDetailInFaults = includeExceptionDetailInFaults,
        });
        return mapper.Failure(e);
    }

    public bool TryGet(string name, out ContractOperation? operation) => _byName.TryGetValue(name, out operation);

    public IEnumerable<ContractOperation> All => _byName.Values;

    public static ContractOperations For(Type contractType)
    {
        var description = ContractDescription.GetContract(contractType);
        var byName = new Dictionary<string, ContractOperation>(StringComparer.Ordinal);
        foreach (var o in description.Operations)
        {
            if (o.Messages[0].Direction != MessageDirection.Input) continue; // the callback contract's
            byName[o.Name] = o switch
            {
                // A contract may declare both shapes of one operation; WCF's dispatcher, like ServeService, runs the synchronous one.
                { SyncMethod: { } sync } => Synchronous(o, contractType, sync),
                { TaskMethod: { } task } => new ContractOperation(o.Name, o.IsOneWay)
                {
                    Async = Compile<Func<object, object?[], Task>>(contractType, task, out _),
                    AsyncResult = task.ReturnType.IsGenericType ? ResultGetter(task.ReturnType.GetGenericArguments()[0]) : null,
                },
                _ => new ContractOperation(o.Name, o.IsOneWay)
                {
                    NotSupported = $"{o.Name} is a Begin/End (AsyncPattern) operation, which a contract actor cannot run in its mailbox; " +
                                   "declare it synchronous or Task-based.",
                },
            };
        }
        return new ContractOperations(contractType, description.CallbackContractType, byName);
    }

    private static ContractOperation Synchronous(OperationDescription o, Type contractType, MethodInfo method)
    {
        var call = Compile<Func<object, object?[], object?>>(contractType, method, out var byRef);
        return new ContractOperation(o.Name, o.IsOneWay) { Sync = call, ByRef = byRef };
    }

    /// <summary>
    /// <c>(target, args) =&gt; (object)((TContract)target).Method((T0)args[0], ref v1, ...)</c>, copying out and ref
    /// values back into <c>args</c> after the call, as MethodInfo.Invoke does.
    /// </summary>
    private static TDelegate Compile<TDelegate>(Type contractType, MethodInfo method, out IReadOnlyList<int> byRef)
    {
        var target = Expression.Parameter(typeof(object), "target");
        var args = Expression.Parameter(typeof(object?[]), "args");
        var parameters = method.GetParameters();
        var locals = new List<ParameterExpression>();
        var before = new List<Expression>();
        var after = new List<Expression>();
        var callArguments = new Expression[parameters.Length];
        var positions = new List<int>();
        foreach (var p in parameters)
        {
            var slot = Expression.ArrayAccess(args, Expression.Constant(p.Position));
            if (!p.ParameterType.IsByRef)
            {
                callArguments[p.Position] = Expression.Convert(slot, p.ParameterType);
                continue;
            }
            var type = p.ParameterType.GetElementType()!;
            var local = Expression.Variable(type, p.Name);
            locals.Add(local);
            positions.Add(p.Position);
            // An out parameter's slot is null: the local starts at default(T) instead of unboxing it.
            if (!p.IsOut) before.Add(Expression.Assign(local, Expression.Convert(slot, type)));
            callArguments[p.Position] = local;
            after.Add(Expression.Assign(slot, Expression.Convert(local, typeof(object))));
        }
        Expression call = Expression.Call(Expression.Convert(target, contractType), method, callArguments);
        var returnType = typeof(TDelegate).GetMethod("Invoke")!.ReturnType;
        Expression body;
        if (method.ReturnType == typeof(void))
            body = Expression.Block(returnType, locals, [.. before, call, .. after, Expression.Constant(null, returnType)]);
        else
        {
            var result = Expression.Variable(returnType, "result");
            body = Expression.Block(returnType, [.. locals, result],
                [.. before, Expression.Assign(result, Expression.Convert(call, returnType)), .. after, result]);
        }
        byRef = positions;
        return Expression.Lambda<TDelegate>(body, target, args).Compile();
    }

    private static Func<Task, object?> ResultGetter(Type resultType) =>
        (Func<Task, object?>)ResultOf.MakeGenericMethod(resultType).CreateDelegate(typeof(Func<Task, object?>));

    private static object? Result<T>(Task task) => ((Task<T>)task).Result;
}

/// <summary>The one table of each contract, built the first time an actor serving it starts.</summary>
internal static class ContractOperations<TContract>
{
    public static readonly ContractOperations Table = ContractOperations.For(typeof(TContract));
}
