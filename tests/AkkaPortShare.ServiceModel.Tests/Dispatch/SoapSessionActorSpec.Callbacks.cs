using System.Runtime.Serialization;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Dispatch;

[DataContract(Namespace = IOrders.Ns)]
public sealed class AuditFault
{
    [DataMember] public string Reason { get; set; } = "";
}

/// <summary>A duplex contract whose request/reply callback declares a fault contract.</summary>
[ServiceContract(Namespace = IOrders.Ns, CallbackContract = typeof(IAuditCallback))]
public interface IAudited
{
    [OperationContract] int Note(string entry);
    [OperationContract] [FaultContract(typeof(AuditFault))] string Approve(string entry);
    [OperationContract] Task<string> ReviewAsync(string entry);
}

public interface IAuditCallback
{
    [OperationContract(IsOneWay = true)]
    void Noted(string entry);

    [OperationContract]
    [FaultContract(typeof(AuditFault))]
    string Approve(string entry);

    [OperationContract]
    Task<string> ReviewAsync(string entry);
}

/// <summary>Request/reply callbacks: faults the client answers with, and callbacks pending when the session ends.</summary>
public sealed partial class SoapSessionActorSpec
{
    private static readonly ContractMap Audited = ContractMap.For(typeof(IAudited));

    private async Task<UniqueId> CallbackSentAsync(IActorRef session, IActorRef caller, string operation, params object?[] arguments)
    {
        session.Tell(new InvokeCallback(operation, arguments), caller);
        return Headers(await SentAsync()).MessageId!;
    }

    private void ClientFaults(IActorRef session, UniqueId relatesTo, FaultCode code, string reason, object detail, string action)
    {
        var message = Message.CreateMessage(WcfClientSession.Version, code, reason, detail, action);
        message.Headers.RelatesTo = relatesTo;
        Receive(session, _client.Encode(message));
    }

    [Fact]
    public async Task SoapSessionActor_must_fail_a_callback_with_FaultException_of_the_declared_detail_code_and_reason()
    {
        var session = StartSession(Audited);
        var approve = Callback(Audited, "Approve");
        var id = await CallbackSentAsync(session, TestActor, "Approve", "entry 7");

        ClientFaults(session, id,
            new FaultCode("Sender", "http://www.w3.org/2003/05/soap-envelope", new FaultCode("NotAllowed", IOrders.Ns)),
            "not approved", new AuditFault { Reason = "over budget" }, approve.Faults[0].Action);

        var failure = await ExpectMsgAsync<Status.Failure>();
        var fault = Assert.IsType<FaultException<AuditFault>>(failure.Cause);
        Assert.Equal("over budget", fault.Detail.Reason);
        Assert.Equal("not approved", fault.Reason.ToString());
        Assert.Equal(("Sender", "NotAllowed"), (fault.Code.Name, fault.Code.SubCode?.Name));
    }

    [Fact]
    public async Task SoapSessionActor_must_fail_a_callback_with_a_plain_FaultException_when_the_detail_is_not_declared()
    {
        var session = StartSession(Audited);
        var id = await CallbackSentAsync(session, TestActor, "Approve", "entry 8");

        ClientFaults(session, id, new FaultCode("Sender", "http://www.w3.org/2003/05/soap-envelope"),
            "undeclared", new Order { Id = 8 }, "urn:some-fault");

        var fault = (await ExpectMsgAsync<Status.Failure>()).Cause;
        Assert.Equal(typeof(FaultException), fault.GetType());
        Assert.Equal("undeclared", ((FaultException)fault).Reason.ToString());
    }

    [Fact]
    public async Task SoapSessionActor_must_fail_pending_callbacks_at_once_when_the_session_ends()
    {
        var session = StartSession(Audited);
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        await CallbackSentAsync(session, first.Ref, "Approve", "one");
        await CallbackSentAsync(session, second.Ref, "Approve", "two");
        await first.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // waiting for the client

        session.Tell(new FramingSession.SessionClosed(_framing.Ref, Graceful: false));

        // Well within any callback timeout: the failure comes with the session's end, not after a wait.
        foreach (var caller in new[] { first, second })
        {
            var failure = await caller.ExpectMsgAsync<Status.Failure>(TimeSpan.FromSeconds(1));
            Assert.IsType<CommunicationObjectAbortedException>(failure.Cause);
            Assert.Contains("Approve", failure.Cause.Message);
        }
    }
}
