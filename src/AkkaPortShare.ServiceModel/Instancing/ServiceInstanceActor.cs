using System.Collections.Immutable;
using System.ServiceModel;
using Akka.Actor;
using Akka.Event;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Instancing;

/// <summary>
/// One instance of a service class (WCF's InstanceContext): it owns the object, calls its operations, and disposes
/// it when it stops. With ConcurrencyMode Single (WCF's default) or Reentrant a call holds the instance while it runs,
/// so the mailbox is the instance's lock: calls that come meanwhile wait in the stash, at most as many as the
/// sessions' max-concurrent-calls-per-session let in. Reentrant: a call waiting on a request/reply callback lets the
/// instance go (the next call runs) and takes it back, ahead of waiting calls, when the callback has answered
/// (<see cref="ServiceCallScope"/>). Multiple: every call runs as it comes.
/// An exception that is not a FaultException ends the instance (WCF aborts its InstanceContext, unless it is the
/// service's Single one) and, for a one-way call, the session (<see cref="AbortSession"/>). An ending instance tells
/// its host (<see cref="Ending"/>) before the caller hears of the failure, and gives back to the host every call that
/// reaches it until the host has let it go (<see cref="Forgotten"/>): those calls get a new instance, none is lost.
/// </summary>
internal sealed class ServiceInstanceActor : ReceiveActor, IWithStash
{
    private sealed record CallDone(IActorRef ReplyTo, IActorRef Session, string SessionId, object Answer);

    /// <param name="Instance">The service object, made with the first call.</param>
    /// <param name="Held">A call holds the instance (Single and Reentrant).</param>
    /// <param name="Resuming">Calls whose callback answered, waiting for the instance ahead of new calls.</param>
    private sealed record State(object? Instance, bool Held, ImmutableQueue<IActorRef> Resuming);

    /// <summary>Reentrant: the running call waits on a callback; the instance may take another call.</summary>
    internal sealed class CalloutStarted
    {
        public static readonly CalloutStarted Instance = new();
        private CalloutStarted() { }
    }

    /// <summary>Reentrant: the callback answered; the call asks for the instance back (answered with <see cref="Resumed"/>).</summary>
    internal sealed class CalloutEnded
    {
        public static readonly CalloutEnded Instance = new();
        private CalloutEnded() { }
    }

    internal sealed class Resumed
    {
        public static readonly Resumed Instance = new();
        private Resumed() { }
    }

    /// <summary>To the host: this instance ends (an unhandled exception); its session's next call needs a new one.</summary>
    internal sealed class Ending
    {
        public static readonly Ending Instance = new();
        private Ending() { }
    }

    /// <summary>From the host: no call will be sent here any more; the instance stops.</summary>
    internal sealed class Forgotten
    {
        public static readonly Forgotten Instance = new();
        private Forgotten() { }
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Func<object> _create;
    private readonly ServiceOperationInvoker _invoker;
    private readonly ServiceBehavior _behavior;
    private readonly bool _perCall;
    private readonly CancellationTokenSource _stopped = new(); // ends the callouts' waits for this instance
    private State _state = new(null, false, ImmutableQueue<IActorRef>.Empty);

    public IStash Stash { get; set; } = null!;

    public static Props Props(Func<object> create, ServiceOperationInvoker invoker, ServiceBehavior behavior, bool perCall = false) =>
        Akka.Actor.Props.Create(() => new ServiceInstanceActor(create, invoker, behavior, perCall));

    public ServiceInstanceActor(Func<object> create, ServiceOperationInvoker invoker, ServiceBehavior behavior, bool perCall)
    {
        _create = create;
        _invoker = invoker;
        _behavior = behavior;
        _perCall = perCall;

        Receive<OperationInvoked>(invoked =>
        {
            if (_state.Held) Stash.Stash();
            else Invoke(invoked);
        });
        Receive<CallDone>(Answer);
        Receive<CalloutStarted>(_ => Release());
        Receive<CalloutEnded>(_ =>
        {
            if (_state.Held) _state = _state with { Resuming = _state.Resuming.Enqueue(Sender) };
            else Resume(Sender);
        });
    }

    private void Invoke(OperationInvoked invoked)
    {
        // WCF creates the instance with the first call, not with the session: a session without calls costs nothing.
        var instance = _state.Instance ?? _create();
        _state = _state with { Instance = instance };
        var replyTo = _invoker.IsOneWay(invoked.Operation) ? ActorRefs.Nobody : Sender;
        var session = invoked.Callback;
        var sessionId = invoked.SessionId;
        _invoker.InvokeAsync(instance, invoked, Self, _stopped.Token)
            .PipeTo(Self, success: answer => new CallDone(replyTo, session, sessionId, answer));
        // A per-call instance takes one call only, whatever its concurrency.
        if (_behavior.Concurrency != ConcurrencyMode.Multiple || _perCall) _state = _state with { Held = true };
    }

    private void Answer(CallDone done)
    {
        var failure = done.Answer as ServiceFailure;
        // WCF aborts the InstanceContext after an unhandled exception (a FaultException is handled). The host hears it
        // before the caller does: a call the caller makes next then reaches the host after the host has let this
        // instance go, instead of reaching an instance that has stopped (found in ServiceHostActorSpec: that call
        // was lost, and its caller waited out its timeout).
        var ends = !_perCall && failure is not null && _behavior.InstanceMode != InstanceContextMode.Single;
        if (ends) Context.Parent.Tell(Ending.Instance);
        Reply(done, failure);
        if (_perCall)
        {
            Context.Stop(Self);
            return;
        }
        if (ends)
        {
            Become(EndingInstance);
            Stash.UnstashAll(); // the calls that waited for this instance go back to the host
            return;
        }
        if (_behavior.Concurrency != ConcurrencyMode.Multiple) Release();
    }

    /// <summary>Until the host has let this instance go: calls go back to it, answers still go out.</summary>
    private void EndingInstance()
    {
        Receive<OperationInvoked>(invoked => Context.Parent.Forward(invoked));
        Receive<CallDone>(done => Reply(done, done.Answer as ServiceFailure));
        // A call waiting to take the instance back after its callback is cancelled when the instance stops.
        Receive<CalloutStarted>(_ => { });
        Receive<CalloutEnded>(_ => { });
        Receive<Forgotten>(_ => Context.Stop(Self));
    }

    private void Reply(CallDone done, ServiceFailure? failure)
    {
        if (!done.ReplyTo.IsNobody()) done.ReplyTo.Tell(failure is null ? done.Answer : new Status.Failure(failure));
        else if (failure is not null)
        {
            _log.Warning("One-way operation failed: {0}; aborting its session, as WCF does", failure.InnerException?.Message ?? failure.Message);
            done.Session.Tell(new AbortSession(done.SessionId, $"a one-way operation threw {failure.InnerException?.GetType().Name}"));
        }
    }

    // The instance is free: a call whose callback answered goes on first, then the next new call.
    private void Release()
    {
        _state = _state with { Held = false };
        if (!_state.Resuming.IsEmpty)
        {
            _state = _state with { Resuming = _state.Resuming.Dequeue(out var resuming) };
            Resume(resuming);
        }
        else if (Stash.NonEmpty) Stash.Unstash();
    }

    private void Resume(IActorRef call)
    {
        if (_behavior.Concurrency != ConcurrencyMode.Multiple && !_perCall) _state = _state with { Held = true };
        call.Tell(Resumed.Instance);
    }

    protected override void PostStop()
    {
        _stopped.Cancel();
        if (_state.Instance is not IDisposable disposable) return;
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
