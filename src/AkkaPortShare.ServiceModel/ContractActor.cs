using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using AkkaPortShare.ServiceModel.TypedActors;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel;

/// <summary>
/// An actor that serves a WCF [ServiceContract] by implementing it: derive from this class <b>and</b> implement
/// <typeparamref name="TContract"/>, and the contract's methods are called in the actor's mailbox with the
/// arguments the client sent, typed by the compiler. The actor's state therefore needs no locks, and the actor can
/// still <c>Receive&lt;T&gt;</c> its own messages (timers, other actors) next to the contract's.
/// <list type="bullet">
/// <item>A synchronous method's return value (and out/ref values) is the reply. A <c>FaultException&lt;T&gt;</c> or
/// <c>FaultException</c> reaches the client as that fault (reason, code, detail); any other exception as WCF's
/// internal-error fault, whose text is the exception's only with
/// <c>[ServiceBehavior(IncludeExceptionDetailInFaults = true)]</c> on the actor class. The actor does not restart.</item>
/// <item>A <c>Task</c>/<c>Task&lt;T&gt;</c> method runs like <c>ReceiveAsync</c>: its awaits continue in the actor,
/// and the mailbox stays suspended (no thread is blocked) until the task ends, so no other message, the contract's
/// or the actor's own, runs in between and the state stays single-threaded. A task that never ends keeps the actor
/// suspended; the client gets its fault at the endpoint's SendTimeout (operation-timeout) either way.</item>
/// <item>Begin/End (AsyncPattern) operations are not run: a call gets a fault naming the operation.</item>
/// </list>
/// Sessions: served with <c>ServeContract&lt;TContract&gt;(address, Props.Create&lt;TActor&gt;())</c>, one actor serves
/// every session of the endpoint (<see cref="SessionId"/> tells them apart), like WCF's InstanceContextMode.Single;
/// with <c>ServeActor&lt;TActor&gt;(address)</c> each session gets an actor of its own, stopped when the session ends,
/// like WCF's PerSession (net.tcp's default). <see cref="SessionStarted"/> and <see cref="SessionEnded"/> may be
/// received like any message; when the actor does not, they are ignored.
/// </summary>
/// <typeparam name="TContract">The [ServiceContract] interface; the derived class must implement it.</typeparam>
public abstract class ContractActor<TContract> : ReceiveActor where TContract : class
{
    private static readonly ContractOperations Operations = ContractOperations<TContract>.Table;
    private static CallbackOperations? _callbacks;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly bool _includeExceptionDetail;
    private TimeSpan? _callbackTimeout;

    protected ContractActor()
    {
        if (this is not TContract)
            throw new InvalidOperationException($"{GetType().Name} derives from ContractActor<{typeof(TContract).Name}> but does not implement {typeof(TContract).Name}.");
        _includeExceptionDetail = Instancing.ServiceBehavior.For(GetType()).IncludeExceptionDetailInFaults;
        Receive<OperationInvoked>(OnInvoked);
    }

    /// <summary>The call being served, while one is (through a Task-based operation's awaits too); otherwise null.</summary>
    protected OperationInvoked? CurrentOperation { get; private set; }

    /// <summary>The session of the call being served (a reliable session's id for a reliable session).</summary>
    protected string SessionId => CurrentOperation?.SessionId
        ?? throw new InvalidOperationException("SessionId is known only while a contract operation runs.");

    /// <summary>
    /// The client's callback contract, as WCF's <c>OperationContext.Current.GetCallbackChannel&lt;T&gt;()</c> gives it,
    /// for the session of the call being served. One-way callbacks are sent at once. Task-based request/reply
    /// callbacks are awaited in the actor (the mailbox stays suspended until the answer; the client's
    /// <c>FaultException&lt;T&gt;</c> is thrown as it is; a session that ends fails the task at once; no answer within
    /// operation-timeout fails it with an <c>AskTimeoutException</c>). A synchronous request/reply callback throws
    /// <see cref="InvalidOperationException"/> without calling the client: waiting for its reply would block the actor,
    /// as WCF refuses it for a ConcurrencyMode.Single service. Declare such callbacks Task-based.
    /// </summary>
    protected TCallback GetCallbackChannel<TCallback>() where TCallback : class =>
        GetCallbackChannel<TCallback>(CurrentOperation?.Callback
            ?? throw new InvalidOperationException("GetCallbackChannel() is known only while a contract operation runs; keep SessionStarted.Callback for later."));

    /// <summary>
    /// The callback contract of the session whose <see cref="OperationInvoked.Callback"/> or
    /// <see cref="SessionStarted.Callback"/> this is: for calls outside an operation (a timer, another actor's message).
    /// </summary>
    protected TCallback GetCallbackChannel<TCallback>(IActorRef callback) where TCallback : class
    {
        var callbacks = _callbacks ??= Operations.CallbackType is { } type
            ? CallbackOperations.For(typeof(TContract), type)
            : throw new InvalidOperationException($"{typeof(TContract).Name} has no callback contract ([ServiceContract(CallbackContract = ...)]).");
        if (typeof(TCallback) != callbacks.CallbackType)
            throw new InvalidOperationException($"{typeof(TContract).Name}'s callback contract is {callbacks.CallbackType.Name}, not {typeof(TCallback).Name}.");
        _callbackTimeout ??= ServiceModelSettings.Create(Context.System).OperationTimeout;
        return CallbackProxy.Create<TCallback>(callbacks, callback, _callbackTimeout.Value);
    }

    /// <summary>Session notices the actor does not receive are expected, not unhandled.</summary>
    protected override void Unhandled(object message)
    {
        if (message is SessionStarted or SessionEnded) return;
        base.Unhandled(message);
    }

    private void OnInvoked(OperationInvoked invoked)
    {
        var replyTo = Sender;
        if (!Operations.TryGet(invoked.Operation, out var operation))
        {
            Answer(invoked, replyTo, isOneWay: false, new OperationFault($"{typeof(TContract).Name} has no operation {invoked.Operation}."));
            return;
        }
        if (operation!.NotSupported is { } reason)
        {
            Answer(invoked, replyTo, operation.IsOneWay, new OperationFault(reason));
            return;
        }
        // A copy: the call writes out and ref values back into the array it is given.
        var arguments = (object?[])invoked.Arguments.Clone();
        CurrentOperation = invoked;
        if (operation.Sync is { } sync)
        {
            object answer;
            try
            {
                var result = sync(this, arguments);
                answer = new OperationResult(result) { Outputs = Outputs(operation, arguments) };
            }
            catch (Exception e)
            {
                answer = Operations.Failure(e, _includeExceptionDetail);
            }
            CurrentOperation = null;
            Answer(invoked, replyTo, operation.IsOneWay, answer);
            return;
        }
        // Like ReceiveAsync: the mailbox is suspended until the task ends, and its continuations run in this actor.
        ActorTaskScheduler.RunTask(async () =>
        {
            object answer;
            try
            {
                var task = operation.Async!(this, arguments);
                await task;
                answer = new OperationResult(operation.AsyncResult?.Invoke(task));
            }
            catch (Exception e)
            {
                answer = Operations.Failure(e, _includeExceptionDetail);
            }
            CurrentOperation = null;
            Answer(invoked, replyTo, operation.IsOneWay, answer);
        });
    }

    private static object?[]? Outputs(ContractOperation operation, object?[] arguments) =>
        operation.ByRef.Count == 0 ? null : operation.ByRef.Select(p => arguments[p]).ToArray();

    // What the SOAP layer expects of an implementation actor: OperationResult, OperationFault, or a Status.Failure
    // carrying the internal error. One-way calls have no one to answer; a failure is logged.
    private void Answer(OperationInvoked invoked, IActorRef replyTo, bool isOneWay, object answer)
    {
        if (isOneWay)
        {
            if (answer is not OperationResult)
                _log.Warning("One-way operation {0} of session {1} failed: {2}", invoked.Operation, invoked.SessionId,
                    answer is Exception e ? e.InnerException?.Message ?? e.Message : answer);
            return;
        }
        replyTo.Tell(answer is Exception failure ? new Status.Failure(failure) : answer);
    }
}
