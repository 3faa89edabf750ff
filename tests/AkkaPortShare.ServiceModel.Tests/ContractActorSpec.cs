using System.ServiceModel;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Samples.Echo;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests;

// A contract with the shapes the sample has not: out/ref, Begin/End, a synchronous request/reply callback.
[ServiceContract(CallbackContract = typeof(IShapesCallback))]
public interface IActorShapes
{
    [OperationContract] int Split(int value, out int half, ref string note);
    [OperationContract(AsyncPattern = true)] IAsyncResult BeginSlow(int value, AsyncCallback callback, object state);
    int EndSlow(IAsyncResult result);
    [OperationContract] bool AskSynchronously();
    [OperationContract] Task<int> DelayedAsync(int value);
}

public interface IShapesCallback
{
    [OperationContract] bool Confirm();
}

[AkkaPortShare.ServiceModel.ServiceBehavior(IncludeExceptionDetailInFaults = true)]
public sealed class ShapesActor : ContractActor<IActorShapes>, IActorShapes
{
    public int Split(int value, out int half, ref string note)
    {
        half = value / 2;
        note += "!";
        return value;
    }

    public IAsyncResult BeginSlow(int value, AsyncCallback callback, object state) => throw new NotImplementedException();
    public int EndSlow(IAsyncResult result) => throw new NotImplementedException();
    public bool AskSynchronously() => GetCallbackChannel<IShapesCallback>().Confirm();

    public async Task<int> DelayedAsync(int value)
    {
        await Task.Delay(50);
        await Task.Yield();
        return value * 2;
    }
}

/// <summary>
/// The typed actor base class, with TestKit at both levels: an OperationInvoked from the test (a probe standing for
/// the session, which is also the callback channel) answered to TestActor, as the worker's SOAP layer sees it; and the
/// actor's own methods called directly through a TestActorRef.
/// </summary>
public sealed class ContractActorSpec : Akka.TestKit.Xunit2.TestKit
{
    public ContractActorSpec() : base("akka.actor.provider = local", "ContractActorSpec") { }

    private static OperationInvoked Call(string operation, IActorRef session, params object?[] arguments) =>
        new(operation, arguments, session, "s1");

    [Fact]
    public async Task ContractActor_must_answer_a_synchronous_operation_with_its_result_and_call_back_one_way()
    {
        // The README's example, as written there.
        var tally = Sys.ActorOf(Props.Create<TallyActor>());
        var session = CreateTestProbe();
        tally.Tell(new OperationInvoked("Add", [5], session.Ref, "s1"), TestActor);
        await session.ExpectMsgAsync<InvokeCallback>(c => c.Operation == "Changed" && (int)c.Arguments[0]! == 5);
        await ExpectMsgAsync<OperationResult>(r => (int)r.ReturnValue! == 5);
    }

    [Fact]
    public async Task ContractActor_must_send_a_FaultException_as_the_services_fault_with_code_and_detail()
    {
        var tally = Sys.ActorOf(Props.Create<TallyActor>());

        tally.Tell(Call("Take", CreateTestProbe().Ref, 10));

        var fault = await ExpectMsgAsync<OperationFault>();
        Assert.Equal("Cannot take 10.", fault.Reason);
        Assert.Equal("Overdrawn", fault.Code);
        Assert.Equal(0, Assert.IsType<TallyFault>(fault.Detail).Total);
    }

    [Fact]
    public async Task ContractActor_must_hide_another_exceptions_text_unless_the_actor_includes_exception_detail()
    {
        var tally = Sys.ActorOf(Props.Create<TallyActor>());
        tally.Tell(Call("Crash", CreateTestProbe().Ref));
        var hidden = await ExpectMsgAsync<Status.Failure>();
        Assert.StartsWith("The server was unable to process the request due to an internal error.", hidden.Cause.Message);

        // [ServiceBehavior(IncludeExceptionDetailInFaults = true)] on the actor class, as on a service class.
        var shapes = Sys.ActorOf(Props.Create<ShapesActor>());
        shapes.Tell(Call("AskSynchronously", CreateTestProbe().Ref));
        var shown = await ExpectMsgAsync<Status.Failure>();
        Assert.Contains("synchronous request/reply callback", shown.Cause.Message);

        // The actor did not restart: its state is still there.
        tally.Tell(Call("Add", CreateTestProbe().Ref, 2));
        await ExpectMsgAsync<OperationResult>(r => (int)r.ReturnValue! == 2);
    }

    [Fact]
    public async Task ContractActor_must_keep_its_mailbox_suspended_while_a_Task_operation_awaits_a_callback()
    {
        var tally = Sys.ActorOf(Props.Create<TallyActor>());
        var session = CreateTestProbe();
        tally.Tell(Call("Add", session.Ref, 5));
        await ExpectMsgAsync<OperationResult>();
        await session.ExpectMsgAsync<InvokeCallback>();

        tally.Tell(Call("Confirm", session.Ref));
        var approve = await session.ExpectMsgAsync<InvokeCallback>(c => c.Operation == "Approve" && (int)c.Arguments[0]! == 5);
        // While the client has not answered, neither the actor's own message nor another call runs.
        tally.Tell(new TallyActor.Bonus(100));
        tally.Tell(Call("Total", session.Ref));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

        session.Reply(new OperationResult(true)); // the session answers the Ask the callback proxy made
        await ExpectMsgAsync<OperationResult>(r => (string)r.ReturnValue! == "confirmed 5");
        await ExpectMsgAsync<OperationResult>(r => (int)r.ReturnValue! == 105);
    }

    [Fact]
    public async Task ContractActor_must_let_a_callback_fault_reach_the_operation_as_WCF_raises_it()
    {
        var tally = Sys.ActorOf(Props.Create<TallyActor>());
        var session = CreateTestProbe();

        tally.Tell(Call("Confirm", session.Ref));
        await session.ExpectMsgAsync<InvokeCallback>();
        session.Reply(new Status.Failure(new FaultException(new FaultReason("no approver"), new FaultCode("Sender", new FaultCode("Busy")), null)));

        // Not caught by the operation: it becomes the operation's own fault, code and all.
        var fault = await ExpectMsgAsync<OperationFault>();
        Assert.Equal(("no approver", "Busy"), (fault.Reason, fault.Code));
    }

    [Fact]
    public async Task ContractActor_must_answer_a_Task_operation_with_its_result()
    {
        var shapes = Sys.ActorOf(Props.Create<ShapesActor>());

        shapes.Tell(Call("Delayed", CreateTestProbe().Ref, 21));

        await ExpectMsgAsync<OperationResult>(r => (int)r.ReturnValue! == 42);
    }

    [Fact]
    public async Task ContractActor_must_receive_its_own_messages_next_to_the_contracts()
    {
        var tally = Sys.ActorOf(Props.Create<TallyActor>());

        tally.Tell(new TallyActor.Bonus(3));
        tally.Tell(Call("Reset", CreateTestProbe().Ref)); // one-way: no answer
        tally.Tell(new TallyActor.Bonus(4));
        tally.Tell(Call("Total", CreateTestProbe().Ref));

        await ExpectMsgAsync<OperationResult>(r => (int)r.ReturnValue! == 4);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task ContractActor_must_answer_out_and_ref_values_as_outputs()
    {
        var shapes = Sys.ActorOf(Props.Create<ShapesActor>());

        shapes.Tell(Call("Split", CreateTestProbe().Ref, 9, null, "note"));

        var result = await ExpectMsgAsync<OperationResult>();
        Assert.Equal(9, result.ReturnValue);
        Assert.Equal([4, "note!"], result.Outputs!);
    }

    [Fact]
    public async Task ContractActor_must_refuse_Begin_End_and_unknown_operations_with_a_fault()
    {
        var shapes = Sys.ActorOf(Props.Create<ShapesActor>());

        shapes.Tell(Call("Slow", CreateTestProbe().Ref, 1));
        Assert.Contains("Begin/End", (await ExpectMsgAsync<OperationFault>()).Reason);
        shapes.Tell(Call("Nothing", CreateTestProbe().Ref));
        Assert.Contains("has no operation Nothing", (await ExpectMsgAsync<OperationFault>()).Reason);
    }

    [Fact]
    public async Task ContractActor_can_be_called_directly_through_a_TestActorRef()
    {
        var tally = ActorOfAsTestActorRef<TallyActor>(Props.Create<TallyActor>());

        tally.Tell(new TallyActor.Bonus(3)); // a TestActorRef handles it at once, on this thread
        Assert.Equal(3, tally.UnderlyingActor.Total());
        Assert.Equal(1, tally.UnderlyingActor.Take(2));
        var fault = Assert.Throws<FaultException<TallyFault>>(() => tally.UnderlyingActor.Take(5));
        Assert.Equal(1, fault.Detail.Total);
        await Task.CompletedTask;
    }
}
