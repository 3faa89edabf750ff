using System.ServiceModel;
using Akka.Actor;
using AkkaPortShare.Samples.Echo;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Samples;

/// <summary>The sample's ReviewActor with a probe for the session it calls back through.</summary>
public sealed class ReviewActorSpec : Akka.TestKit.Xunit2.TestKit
{
    public ReviewActorSpec() : base("akka.actor.provider = local", "ReviewActorSpec") { }

    private static OperationInvoked Invoke(string operation, IActorRef session, string sessionId, params object?[] arguments) =>
        new(operation, arguments, session, sessionId);

    [Fact]
    public async Task ReviewActor_must_tell_progress_ask_for_approval_and_count_approvals_per_session()
    {
        var review = Sys.ActorOf(Props.Create<ReviewActor>());
        var session = CreateTestProbe();

        review.Tell(Invoke("Submit", session.Ref, "s1", "report"));
        var progress = await session.ExpectMsgAsync<InvokeCallback>();
        Assert.Equal("Progress", progress.Operation);
        Assert.Equal(["report", 50], progress.Arguments);
        var approve = await session.ExpectMsgAsync<InvokeCallback>();
        Assert.Equal(("Approve", "report"), (approve.Operation, approve.Arguments[0]));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200)); // it waits for the client, not in its mailbox
        session.Reply(new OperationResult(true));
        Assert.Equal("approved", (await ExpectMsgAsync<OperationResult>()).ReturnValue);

        review.Tell(Invoke("Approved", session.Ref, "s1"));
        Assert.Equal(1, (await ExpectMsgAsync<OperationResult>()).ReturnValue);
        review.Tell(Invoke("Approved", session.Ref, "s2"));
        Assert.Equal(0, (await ExpectMsgAsync<OperationResult>()).ReturnValue);
    }

    [Fact]
    public async Task ReviewActor_must_answer_a_typed_callback_fault_with_its_reason_and_code()
    {
        var review = Sys.ActorOf(Props.Create<ReviewActor>());
        var session = CreateTestProbe();

        review.Tell(Invoke("Submit", session.Ref, "s1", "secret"));
        await session.ExpectMsgAsync<InvokeCallback>(c => c.Operation == "Progress");
        await session.ExpectMsgAsync<InvokeCallback>(c => c.Operation == "Approve");
        session.Reply(new Status.Failure(new FaultException<ReviewFault>(new ReviewFault { Reason = "classified" },
            new FaultReason("not for review"), new FaultCode("Sender", new FaultCode("Classified")), null)));

        Assert.Equal("refused: classified (Classified)", (await ExpectMsgAsync<OperationResult>()).ReturnValue);
    }
}
