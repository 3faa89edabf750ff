using System.ServiceModel;
using Akka.Actor;
using AkkaPortShare.ServiceModel.Instancing;
using AkkaPortShare.ServiceModel.Tests.Dispatch;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Instancing;

/// <summary>ConcurrencyMode Single (WCF's default): a request/reply callback from a call would deadlock, and is refused.</summary>
[ServiceBehavior(ConcurrencyMode = ConcurrencyMode.Single)]
public sealed class SingleAuditService : AuditService;

[ServiceBehavior(ConcurrencyMode = ConcurrencyMode.Multiple)]
public sealed class MultipleAuditService : AuditService;

/// <summary>
/// WCF's instance and concurrency semantics: what an unhandled exception ends, how callbacks and concurrency modes
/// meet, and that no instance outlives its session.
/// </summary>
public sealed partial class ServiceHostActorSpec
{
    private IActorRef AuditHost<TService>() where TService : AuditService, new() =>
        Sys.ActorOf(ServiceHostActor.Props(typeof(TService), typeof(IAudited), () => new TService()));

    [Fact]
    public async Task PerSession_ends_the_instance_of_a_call_that_arrives_after_SessionEnded_when_its_session_actor_stops()
    {
        var host = Host<Counter>();
        var session = CreateTestProbe();
        host.Tell(new SessionStarted("s1", session.Ref));
        host.Tell(new SessionEnded("s1"));

        // A streamed exchange racing the session's end: its call comes after SessionEnded, and no SessionEnded follows.
        Assert.Equal(1, (await host.Ask<OperationResult>(new OperationInvoked("Increment", [], session.Ref, "s1"), RemainingOrDefault)).ReturnValue);
        Assert.Equal((1, 0), (Counter.Created, Counter.Disposed));

        Sys.Stop(session.Ref);
        await AwaitConditionAsync(() => Task.FromResult(Counter.Disposed == 1));
    }

    [Fact]
    public async Task An_unhandled_exception_disposes_the_PerSession_instance()
    {
        var host = Host<Counter>();
        Assert.Equal(1, await CallAsync(host, "s1", "Increment"));

        await Assert.ThrowsAsync<ServiceFailure>(() => host.Ask<object>(new OperationInvoked("Crash", [], TestActor, "s1"), RemainingOrDefault));

        // WCF aborts the InstanceContext (and closes the session: see SoapSessionActorSpec); a call still in flight gets a new one.
        await AwaitConditionAsync(() => Task.FromResult(Counter.Disposed == 1));
        Assert.Equal(1, await CallAsync(host, "s1", "Increment"));
        Assert.Equal(2, Counter.Created);
    }

    [Fact]
    public async Task Calls_waiting_for_an_instance_that_an_unhandled_exception_ends_get_a_new_one()
    {
        var host = Host<Counter>();
        var hold = host.Ask<OperationResult>(new OperationInvoked("Hold", [], TestActor, "s1"), RemainingOrDefault);
        await AwaitConditionAsync(() => Task.FromResult(Counter.Holding == 1));
        // Both wait for the held instance (ConcurrencyMode Single): the first ends it, the second must not be lost.
        var crash = host.Ask<object>(new OperationInvoked("Crash", [], TestActor, "s1"), RemainingOrDefault);
        var next = host.Ask<OperationResult>(new OperationInvoked("Increment", [], TestActor, "s1"), RemainingOrDefault);
        Counter.Gate.Release();

        Assert.Equal(1, (await hold).ReturnValue);
        await Assert.ThrowsAsync<ServiceFailure>(() => crash);
        Assert.Equal(1, (await next).ReturnValue); // a new instance: its count starts again
        Assert.Equal(2, Counter.Created);
    }

    [Fact]
    public async Task A_FaultException_keeps_the_instance()
    {
        var host = Host<Counter>();
        Assert.Equal(1, await CallAsync(host, "s1", "Increment"));

        await host.Ask<OperationFault>(new OperationInvoked("Refuse", ["no"], TestActor, "s1"), RemainingOrDefault);

        Assert.Equal(2, await CallAsync(host, "s1", "Increment"));
        Assert.Equal((1, 0), (Counter.Created, Counter.Disposed));
    }

    [Fact]
    public async Task The_Single_instance_outlives_an_unhandled_exception()
    {
        var host = Host<SingleCounter>();
        Assert.Equal(1, await CallAsync(host, "s1", "Increment"));

        await Assert.ThrowsAsync<ServiceFailure>(() => host.Ask<object>(new OperationInvoked("Crash", [], TestActor, "s2"), RemainingOrDefault));

        Assert.Equal(2, await CallAsync(host, "s3", "Increment"));
        Assert.Equal((1, 0), (Counter.Created, Counter.Disposed));
    }

    [Fact]
    public async Task A_one_way_call_that_throws_aborts_its_session_and_its_instance()
    {
        var host = Host<Counter>();
        var session = CreateTestProbe();

        host.Tell(new OperationInvoked("Explode", [], session.Ref, "s1"));

        var abort = await session.ExpectMsgAsync<AbortSession>();
        Assert.Equal("s1", abort.SessionId);
        Assert.Contains(nameof(InvalidOperationException), abort.Reason);
        await AwaitConditionAsync(() => Task.FromResult(Counter.Disposed == 1));
    }

    [Fact]
    public async Task Reentrant_lets_another_call_of_the_instance_run_while_a_call_waits_on_a_callback()
    {
        var host = AuditHost<AuditService>();
        var session = CreateTestProbe();
        var approve = AuditAsync(host, session.Ref, "Approve", "entry 1");
        Assert.Equal("Approve", (await session.ExpectMsgAsync<InvokeCallback>()).Operation);
        var approving = session.LastSender;

        // With Single concurrency this call would wait for Approve, which waits for the client: a deadlock.
        Assert.Equal(1, Assert.IsType<OperationResult>(await AuditAsync(host, session.Ref, "Note", "entry 2")).ReturnValue);
        Assert.Equal("Noted", (await session.ExpectMsgAsync<InvokeCallback>()).Operation);
        Assert.False(approve.IsCompleted);

        approving.Tell(new OperationResult("approved"));
        Assert.Equal("approved", Assert.IsType<OperationResult>(await approve).ReturnValue);
    }

    [Fact]
    public async Task Single_refuses_a_request_reply_callback_with_WCFs_exception_and_allows_a_one_way_one()
    {
        AuditService.Failed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = AuditHost<SingleAuditService>();
        var session = CreateTestProbe();

        var answer = await AuditAsync(host, session.Ref, "Approve", "entry 1").ContinueWith(t => t.Exception?.InnerException);

        var refused = Assert.IsType<InvalidOperationException>(await AuditService.Failed.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(ServiceCallScope.RequestReplyInOrderMessage, refused.Message);
        Assert.IsType<ServiceFailure>(answer); // the service did not catch it: an internal error, as in WCF
        Assert.Equal(1, Assert.IsType<OperationResult>(await AuditAsync(host, session.Ref, "Note", "entry 2")).ReturnValue);
        Assert.Equal("Noted", (await session.ExpectMsgAsync<InvokeCallback>()).Operation); // nothing before: Approve sent none
    }

    [Fact]
    public async Task Multiple_runs_calls_while_another_waits_on_a_callback()
    {
        var host = AuditHost<MultipleAuditService>();
        var session = CreateTestProbe();
        var approve = AuditAsync(host, session.Ref, "Approve", "entry 1");
        Assert.Equal("Approve", (await session.ExpectMsgAsync<InvokeCallback>()).Operation);
        var approving = session.LastSender;

        Assert.Equal(1, Assert.IsType<OperationResult>(await AuditAsync(host, session.Ref, "Note", "entry 2")).ReturnValue);

        approving.Tell(new OperationResult("approved"));
        Assert.Equal("approved", Assert.IsType<OperationResult>(await approve).ReturnValue);
    }
}

[ServiceContract(Namespace = "urn:akkaportshare:tests", CallbackContract = typeof(IQueueingCallback))]
public interface IQueueing
{
    [OperationContract] string Wait();
    [OperationContract] string Block();
    [OperationContract] string Next();
}

public interface IQueueingCallback
{
    [OperationContract] string Ask();
}

/// <summary>A Reentrant service whose calls note the order they ran in.</summary>
#pragma warning disable CS0612 // obsolete in the client packages, yet what WCF services declare
[ServiceBehavior(ConcurrencyMode = ConcurrencyMode.Reentrant)]
#pragma warning restore CS0612
public sealed class QueueingService : IQueueing
{
    public static SemaphoreSlim Gate = new(0);
    public static System.Collections.Concurrent.ConcurrentQueue<string> Order = new();

    public string Wait()
    {
        var answer = OperationContext.Current.GetCallbackChannel<IQueueingCallback>().Ask();
        Order.Enqueue("wait resumed");
        return answer;
    }

    public string Block()
    {
        Order.Enqueue("block");
        Gate.Wait(TimeSpan.FromSeconds(10));
        Order.Enqueue("block done");
        return "blocked";
    }

    public string Next()
    {
        Order.Enqueue("next");
        return "next";
    }
}

public sealed partial class ServiceHostActorSpec
{
    [Fact]
    public async Task Reentrant_resumes_a_call_whose_callback_answered_before_calls_that_wait_to_start()
    {
        QueueingService.Gate = new SemaphoreSlim(0);
        QueueingService.Order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var host = Sys.ActorOf(ServiceHostActor.Props(typeof(QueueingService), typeof(IQueueing), () => new QueueingService()));
        var session = CreateTestProbe();
        Task<object> Call(string operation) => host.Ask<object>(new OperationInvoked(operation, [], session.Ref, "q-1"), TimeSpan.FromSeconds(10));

        var wait = Call("Wait");
        await session.ExpectMsgAsync<InvokeCallback>(); // Wait let the instance go
        var asking = session.LastSender;
        var block = Call("Block");
        await AwaitConditionAsync(() => Task.FromResult(QueueingService.Order.Contains("block")));
        var next = Call("Next"); // waits to start: Block holds the instance
        asking.Tell(new OperationResult("yes")); // Wait's callback answered: it waits to resume
        await Task.Delay(300);
        Assert.Equal(["block"], QueueingService.Order.ToArray());

        QueueingService.Gate.Release();
        await Task.WhenAll(wait, block, next);

        // WCF's callout queue goes first: the resumed call before the one that has not started.
        Assert.Equal(["block", "block done", "wait resumed", "next"], QueueingService.Order.ToArray());
        Assert.Equal("yes", Assert.IsType<OperationResult>(await wait).ReturnValue);
    }
}
