using System.ServiceModel;
using Akka.Actor;
using AkkaPortShare.ServiceModel.Instancing;
using AkkaPortShare.ServiceModel.Tests.Dispatch;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Instancing;

/// <summary>
/// A duplex service class as its owner wrote it: it reaches the client through OperationContext. Reentrant, as WCF
/// requires of a service that makes request/reply callbacks from its calls.
/// </summary>
#pragma warning disable CS0612 // obsolete in the client packages, yet what WCF services declare
[ServiceBehavior(ConcurrencyMode = ConcurrencyMode.Reentrant)]
#pragma warning restore CS0612
public class AuditService : IAudited
{
    public static TaskCompletionSource<Exception> Failed = new();

    private static IAuditCallback Client => OperationContext.Current.GetCallbackChannel<IAuditCallback>();

    public int Note(string entry)
    {
        Client.Noted(entry);
        return 1;
    }

    public string Approve(string entry)
    {
        try
        {
            return Client.Approve(entry);
        }
        catch (Exception e) when (e is not FaultException)
        {
            Failed.TrySetResult(e);
            throw;
        }
    }

    public async Task<string> ReviewAsync(string entry)
    {
        var review = await Client.ReviewAsync(entry);
        // Still the call's context after an await.
        return $"{review} ({OperationContext.Current.GetCallbackChannel<IAuditCallback>() is not null})";
    }
}

/// <summary>
/// Callbacks of a service class: OperationContext.Current.GetCallbackChannel gives WCF's typed proxy, whose calls reach
/// the session (the probe plays it) as InvokeCallback, and whose answers and faults come back as WCF raises them.
/// </summary>
public sealed partial class ServiceHostActorSpec
{
    private IActorRef AuditHost() =>
        Sys.ActorOf(ServiceHostActor.Props(typeof(AuditService), typeof(IAudited), () => new AuditService()));

    private Task<object> AuditAsync(IActorRef host, IActorRef session, string operation, params object?[] arguments) =>
        host.Ask<object>(new OperationInvoked(operation, arguments, session, "audit-1"), TimeSpan.FromSeconds(10));

    [Fact]
    public async Task A_one_way_callback_returns_at_once_and_reaches_the_session()
    {
        var session = CreateTestProbe();

        var answer = await AuditAsync(AuditHost(), session.Ref, "Note", "entry 1");

        Assert.Equal(1, Assert.IsType<OperationResult>(answer).ReturnValue);
        var call = await session.ExpectMsgAsync<InvokeCallback>();
        Assert.Equal("Noted", call.Operation);
        Assert.Equal(["entry 1"], call.Arguments);
    }

    [Fact]
    public async Task A_request_reply_callback_waits_for_the_clients_answer()
    {
        var session = CreateTestProbe();
        var answer = AuditAsync(AuditHost(), session.Ref, "Approve", "entry 2");

        var call = await session.ExpectMsgAsync<InvokeCallback>();
        Assert.Equal("Approve", call.Operation);
        Assert.Equal(["entry 2"], call.Arguments);
        Assert.False(answer.IsCompleted);
        session.Reply(new OperationResult("approved"));

        Assert.Equal("approved", Assert.IsType<OperationResult>(await answer).ReturnValue);
    }

    [Fact]
    public async Task A_Task_based_callback_is_awaited_and_the_context_flows_through_the_await()
    {
        var session = CreateTestProbe();
        var answer = AuditAsync(AuditHost(), session.Ref, "Review", "entry 3");

        Assert.Equal("Review", (await session.ExpectMsgAsync<InvokeCallback>()).Operation);
        session.Reply(new OperationResult("fine"));

        Assert.Equal("fine (True)", Assert.IsType<OperationResult>(await answer).ReturnValue);
    }

    [Fact]
    public async Task A_callback_fault_is_thrown_as_FaultException_of_the_declared_detail_with_its_code()
    {
        var session = CreateTestProbe();
        var answer = AuditAsync(AuditHost(), session.Ref, "Approve", "entry 4");

        await session.ExpectMsgAsync<InvokeCallback>();
        session.Reply(new Status.Failure(new FaultException<AuditFault>(new AuditFault { Reason = "over budget" },
            new FaultReason("not approved"), new FaultCode("Sender", new FaultCode("NotAllowed")), null)));

        // The service did not catch it, so it is the service's own fault to its caller, as WCF maps a FaultException:
        // the proxy raised the typed exception with the detail and code.
        var fault = Assert.IsType<OperationFault>(await answer);
        Assert.Equal(("not approved", "NotAllowed"), (fault.Reason, fault.Code));
        Assert.Equal("over budget", Assert.IsType<AuditFault>(fault.Detail).Reason);
    }

    [Fact]
    public async Task A_callback_pending_when_the_session_ends_fails_at_once()
    {
        AuditService.Failed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = AuditHost();
        var session = CreateTestProbe();
        host.Tell(new SessionStarted("audit-1", session.Ref));
        _ = AuditAsync(host, session.Ref, "Approve", "entry 5");
        await session.ExpectMsgAsync<InvokeCallback>();

        host.Tell(new SessionEnded("audit-1"));

        var failure = await AuditService.Failed.Task.WaitAsync(TimeSpan.FromSeconds(2)); // the callback's timeout is a minute
        Assert.IsType<CommunicationObjectAbortedException>(failure);
    }
}
