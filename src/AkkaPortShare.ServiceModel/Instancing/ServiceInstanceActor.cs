using System.ServiceModel;
using Akka.Actor;
using Akka.Event;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Instancing;

/// <summary>
/// One instance of a service class (WCF's InstanceContext): it owns the object, calls its operations, and disposes
/// it when it stops. With ConcurrencyMode Single (WCF's default) or Reentrant it takes one call at a time, so the
/// mailbox is the instance's lock: calls that come meanwhile wait in the stash, at most as many as the sessions'
/// max-concurrent-calls-per-session let in. With Multiple every call runs as it comes.
/// </summary>
internal sealed class ServiceInstanceActor : ReceiveActor, IWithStash
{
    private sealed record CallDone(IActorRef ReplyTo, object Answer);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Func<object> _create;
    private readonly ServiceOperationInvoker _invoker;
    private readonly ServiceBehavior _behavior;
    private readonly bool _perCall;
    private object? _instance;

    public IStash Stash { get; set; } = null!;

    public static Props Props(Func<object> create, ServiceOperationInvoker invoker, ServiceBehavior behavior, bool perCall = false) =>
        Akka.Actor.Props.Create(() => new ServiceInstanceActor(create, invoker, behavior, perCall));

    public ServiceInstanceActor(Func<object> create, ServiceOperationInvoker invoker, ServiceBehavior behavior, bool perCall)
    {
        _create = create;
        _invoker = invoker;
        _behavior = behavior;
        _perCall = perCall;
        Ready();
    }

    private void Ready()
    {
        Receive<OperationInvoked>(Invoke);
        Receive<CallDone>(Answer);
    }

    /// <summary>Single and Reentrant concurrency: a call is running; the next ones wait their turn.</summary>
    private void Busy()
    {
        Receive<OperationInvoked>(_ => Stash.Stash());
        Receive<CallDone>(done =>
        {
            Answer(done);
            if (_perCall) return;
            Stash.UnstashAll();
            Become(Ready);
        });
    }

    private void Invoke(OperationInvoked invoked)
    {
        // WCF creates the instance with the first call, not with the session: a session without calls costs nothing.
        _instance ??= _create();
        var replyTo = _invoker.IsOneWay(invoked.Operation) ? ActorRefs.Nobody : Sender;
        _invoker.InvokeAsync(_instance, invoked).PipeTo(Self, success: answer => new CallDone(replyTo, answer));
        if (_behavior.Concurrency != ConcurrencyMode.Multiple || _perCall) Become(Busy);
    }

    private void Answer(CallDone done)
    {
        if (done.ReplyTo.IsNobody())
        {
            if (done.Answer is ServiceFailure failure) _log.Warning("One-way operation failed: {0}", failure.InnerException?.Message ?? failure.Message);
        }
        else done.ReplyTo.Tell(done.Answer is ServiceFailure f ? new Status.Failure(f) : done.Answer);
        if (_perCall) Context.Stop(Self);
    }

    protected override void PostStop()
    {
        if (_instance is not IDisposable disposable) return;
        try
        {
            disposable.Dispose();
        }
        catch (Exception e)
        {
            _log.Warning("Disposing the service instance failed: {0}", e.Message);
        }
    }
}
