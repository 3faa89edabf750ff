using System.ServiceModel;
using System.ServiceModel.Channels;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.ServiceModel.Dispatch;
using AkkaPortShare.ServiceModel.Instancing;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Dispatch;

/// <summary>A session contract with WCF's initiation and termination rules.</summary>
[ServiceContract(Namespace = "urn:akkaportshare:tests", SessionMode = SessionMode.Required)]
public interface ICheckout
{
    [OperationContract] int Start();
    [OperationContract(IsInitiating = false)] int Add(int amount);
    [OperationContract(IsInitiating = false, IsOneWay = true)] void Note(string text);
    [OperationContract(IsInitiating = false, IsTerminating = true)] int Pay();
}

/// <summary>WCF's server rules for a session's life: initiation, termination, and what an unhandled failure ends.</summary>
public sealed partial class SoapSessionActorSpec
{
    private const string Tests = "urn:akkaportshare:tests";
    private static readonly ContractMap Checkout = ContractMap.For(typeof(ICheckout));

    /// <summary>A session whose implementation probe also sees SessionStarted and SessionEnded.</summary>
    private (IActorRef Session, TestProbe Implementation) StartCheckout(TimeSpan? closeTimeout = null)
    {
        var implementation = CreateTestProbe();
        var settings = ServiceModelSettings.Create(Sys) with
        {
            CloseTimeout = closeTimeout ?? TimeSpan.FromSeconds(30),
            OperationTimeout = TimeSpan.FromSeconds(10), // the specs answer for the service at their own pace
        };
        var session = Sys.ActorOf(SoapSessionActor.Props(_framing.Ref, Checkout, implementation.Ref, _reliable.Ref, settings, SessionId,
            ServiceModelMetrics.Get(Sys).ForEndpoint("net.tcp://+:8808/checkout/", Checkout.ContractName)));
        return (session, implementation);
    }

    [Fact]
    public async Task SoapSessionActor_must_dispatch_a_non_initiating_operation_as_the_first_call_as_WCFs_server_does()
    {
        // The rule is the client's (its proxy refuses to send it first); WCF's server dispatches it like any other.
        var (session, implementation) = StartCheckout();

        var id = Call(session, Op(Checkout, "Add", Tests), 5);

        await implementation.ExpectMsgAsync<SessionStarted>();
        Assert.Equal("Add", (await implementation.ExpectMsgAsync<OperationInvoked>()).Operation);
        implementation.Reply(new OperationResult(5));
        var reply = await SentAsync();
        Assert.Equal((id, false), (Headers(reply).RelatesTo, Headers(reply).IsFault));
    }

    [Fact]
    public async Task SoapSessionActor_must_refuse_calls_after_a_terminating_operation_and_end_the_session_once_it_answered()
    {
        var (session, implementation) = StartCheckout(closeTimeout: TimeSpan.FromMilliseconds(500));
        var pay = Call(session, Op(Checkout, "Pay", Tests));
        await implementation.ExpectMsgAsync<SessionStarted>();
        var invoked = await implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal("Pay", invoked.Operation);
        var paying = implementation.LastSender;

        // Sent after the terminating call, while it runs: WCF's SessionTerminated fault, the service never sees it.
        var late = Call(session, Op(Checkout, "Add", Tests), 1);
        var refused = await SentAsync();
        Assert.Equal(late, Headers(refused).RelatesTo);
        var fault = Fault(refused);
        Assert.Equal(("SessionTerminated", SessionRules.ChannelTerminatedReason), (fault.Code.SubCode?.Name, fault.Reason.ToString()));
        Receive(session, _client.Request(Op(Checkout, "Note", Tests), null, "dropped")); // one-way: dropped, no answer
        await implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        paying.Tell(new OperationResult(42));
        var reply = await SentAsync();
        Assert.Equal((pay, false), (Headers(reply).RelatesTo, Headers(reply).IsFault));
        // The service is done with the session at once (its PerSession instance is released) ...
        Assert.Equal(SessionId, (await implementation.ExpectMsgAsync<SessionEnded>()).SessionId);
        // ... and a client that does not close it within CloseTimeout has it aborted, as WCF's service does.
        await _framing.ExpectMsgAsync<FramingSession.Abort>(TimeSpan.FromSeconds(3));
        Watch(session);
        session.Tell(new FramingSession.SessionClosed(_framing.Ref, Graceful: false));
        await ExpectTerminatedAsync(session);
        await implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // no second SessionEnded
    }

    [Fact]
    public async Task SoapSessionActor_must_close_the_session_after_sending_an_internal_error_fault()
    {
        var (session, implementation) = StartCheckout();
        var id = Call(session, Op(Checkout, "Start", Tests));
        await implementation.ExpectMsgAsync<SessionStarted>();
        await implementation.ExpectMsgAsync<OperationInvoked>();

        implementation.Reply(new Status.Failure(new ServiceFailure(ServiceFailure.HiddenReason, new InvalidOperationException("boom"))));

        var reply = await SentAsync();
        Assert.Equal(id, Headers(reply).RelatesTo);
        Assert.Equal("InternalServiceFault", Fault(reply).Code.SubCode?.Name);
        // After the fault, as WCF closes the session channel after an unhandled exception (the client faults its own).
        await _framing.ExpectMsgAsync<FramingSession.Close>();
    }

    [Fact]
    public async Task SoapSessionActor_must_keep_the_session_after_a_services_own_fault()
    {
        var (session, implementation) = StartCheckout();
        Call(session, Op(Checkout, "Start", Tests));
        await implementation.ExpectMsgAsync<SessionStarted>();
        await implementation.ExpectMsgAsync<OperationInvoked>();

        implementation.Reply(new OperationFault("declined", "Declined"));

        Assert.Equal("Declined", Fault(await SentAsync()).Code.SubCode?.Name);
        Call(session, Op(Checkout, "Add", Tests), 2);
        Assert.Equal("Add", (await implementation.ExpectMsgAsync<OperationInvoked>()).Operation);
        await _framing.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task SoapSessionActor_must_abort_the_connection_when_the_service_aborts_the_session()
    {
        var (session, _) = StartCheckout();

        session.Tell(new AbortSession(SessionId, "a one-way operation threw InvalidOperationException"));

        Assert.Contains("one-way", (await _framing.ExpectMsgAsync<FramingSession.Abort>()).Reason);
    }
}
