using Akka.Actor;
using AkkaPortShare.Samples.Echo;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Samples;

/// <summary>The sample's implementation actors, talked to directly (README: "Testing a service actor without sockets").</summary>
public sealed class WcfEchoServiceSpec : Akka.TestKit.Xunit2.TestKit
{
    public WcfEchoServiceSpec() : base("akka.actor.provider = local", "WcfEchoServiceSpec") { }

    private IActorRef StartEcho() => Sys.ActorOf(Props.Create(() => new WcfEchoService("worker-A")));

    private static OperationInvoked Invoke(string operation, IActorRef callback, params object?[] arguments) =>
        new(operation, arguments, callback, "s1");

    [Fact]
    public async Task WcfEchoService_must_answer_Echo_as_in_the_README()
    {
        // The README snippet as written there.
        var service = Sys.ActorOf(Props.Create(() => new WcfEchoService("worker-A")));
        var session = CreateTestProbe();
        service.Tell(new ServiceOperations.OperationInvoked("Echo", ["hi"], session.Ref, "s1"), TestActor);
        await ExpectMsgAsync<ServiceOperations.OperationResult>(r => (string)r.ReturnValue! == "hi");
    }

    [Fact]
    public async Task WcfEchoService_must_answer_Identity_with_its_identity()
    {
        var service = StartEcho();

        service.Tell(Invoke("Identity", CreateTestProbe().Ref));

        Assert.Equal("worker-A", (await ExpectMsgAsync<OperationResult>()).ReturnValue);
    }

    [Fact]
    public async Task WcfEchoService_must_count_posts_without_answering_them()
    {
        var service = StartEcho();
        var session = CreateTestProbe().Ref;

        service.Tell(Invoke("PostedCount", session));
        Assert.Equal(0, (await ExpectMsgAsync<OperationResult>()).ReturnValue);

        for (var i = 0; i < 3; i++) service.Tell(Invoke("Post", session, $"note {i}"));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));

        service.Tell(Invoke("PostedCount", session));
        Assert.Equal(3, (await ExpectMsgAsync<OperationResult>()).ReturnValue);
    }

    [Fact]
    public async Task WcfEchoService_must_answer_Fail_with_a_typed_fault()
    {
        var service = StartEcho();

        service.Tell(Invoke("Fail", CreateTestProbe().Ref, "disk full"));

        var fault = await ExpectMsgAsync<OperationFault>();
        Assert.Equal(("disk full", "EchoFailed"), (fault.Reason, fault.Code));
        Assert.Equal("disk full", Assert.IsType<EchoFault>(fault.Detail).Reason);
    }

    [Fact]
    public async Task WcfEchoService_must_answer_Fail_without_a_reason()
    {
        var service = StartEcho();

        service.Tell(Invoke("Fail", CreateTestProbe().Ref, [null]));

        var fault = await ExpectMsgAsync<OperationFault>();
        Assert.Equal("", fault.Reason);
        Assert.Equal("", Assert.IsType<EchoFault>(fault.Detail).Reason);
    }

    [Fact]
    public async Task WcfEchoService_must_take_session_notices_silently()
    {
        var service = StartEcho();
        var session = CreateTestProbe().Ref;

        service.Tell(new SessionStarted("s1", session));
        service.Tell(new SessionEnded("s1"));
        service.Tell(Invoke("Echo", session, "after"));

        Assert.Equal("after", (await ExpectMsgAsync<OperationResult>()).ReturnValue);
    }

    [Fact]
    public async Task WcfEchoDuplexService_must_call_back_then_answer()
    {
        var service = Sys.ActorOf(Props.Create(() => new WcfEchoDuplexService()));
        var callback = CreateTestProbe();

        service.Tell(Invoke("EchoWithCallback", callback.Ref, "ping"));

        var invoke = await callback.ExpectMsgAsync<InvokeCallback>();
        Assert.Equal("Echoed", invoke.Operation);
        Assert.Equal(["ping"], invoke.Arguments);
        Assert.Equal("ping", (await ExpectMsgAsync<OperationResult>()).ReturnValue);
    }
}
