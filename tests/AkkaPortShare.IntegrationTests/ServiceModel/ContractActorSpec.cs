using System.Collections.Concurrent;
using System.Runtime.Serialization;
using System.ServiceModel;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

// The client side's own copy of the sample's ITallyService, as svcutil would generate it (its callback synchronous:
// the client's shape is its own, the operation name is what matters).
[ServiceContract(Namespace = "urn:akkaportshare:samples", SessionMode = SessionMode.Required, CallbackContract = typeof(ITallyCallback))]
public interface ITallyService
{
    [OperationContract] int Add(int amount);
    [OperationContract] [FaultContract(typeof(TallyFault))] int Take(int amount);
    [OperationContract] string Confirm();
    [OperationContract(IsOneWay = true)] void Reset();
    [OperationContract] int Total();
    [OperationContract] string Crash();
}

public interface ITallyCallback
{
    [OperationContract(IsOneWay = true)] void Changed(int total);
    [OperationContract] bool Approve(int total);
}

[DataContract(Namespace = "urn:akkaportshare:samples")]
public sealed class TallyFault
{
    [DataMember] public int Total { get; set; }
}

/// <summary>The client's callback object: records the totals it is told, approves totals up to its limit.</summary>
public sealed class TallyClient(int limit) : ITallyCallback
{
    public readonly ConcurrentQueue<int> Changes = new();

    public void Changed(int total) => Changes.Enqueue(total);

    public bool Approve(int total) => total <= limit;
}

/// <summary>A router and a worker serving the sample's TallyActor (a ContractActor) with ServeActor, one actor per session.</summary>
public sealed class ContractActorFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();
    public Uri Tally => new(Host.Via("tally/"));

    public async Task InitializeAsync()
    {
        await Host.StartRouterAsync();
        await Host.StartWorkerAsync("worker-T", ["--tally-address", Host.Address("tally/")], "tally/");
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// A typed contract actor (ContractActor&lt;ITallyService&gt;) called by the real WCF client (DuplexChannelFactory)
/// through the router: per-session actors, a typed fault, a hidden internal error, a one-way callback, and a
/// Task-based request/reply callback the actor awaits in its mailbox; over plain and reliable sessions.
/// </summary>
public sealed class ContractActorSpec(ContractActorFixture fixture) : IClassFixture<ContractActorFixture>
{
    private DuplexChannelFactory<ITallyService> Factory(TallyClient client, bool reliable = false) =>
        new(new InstanceContext(client), new NetTcpBinding(SecurityMode.None, reliable)
        {
            SendTimeout = TimeSpan.FromSeconds(30),
            ReceiveTimeout = TimeSpan.FromSeconds(30),
            OpenTimeout = TimeSpan.FromSeconds(30),
        }, new EndpointAddress(fixture.Tally));

    [Fact]
    public void Each_session_has_its_own_actor_and_one_way_callbacks_reach_the_client()
    {
        var client = new TallyClient(limit: 100);
        var factory = Factory(client);
        var first = factory.CreateChannel();
        var second = factory.CreateChannel();

        Assert.Equal(2, first.Add(2));
        Assert.Equal(10, second.Add(10));
        Assert.Equal(5, first.Add(3));
        first.Reset(); // one-way, then a call of the same session: it runs after the reset
        Assert.Equal(0, first.Total());
        Assert.Equal(10, second.Total());

        // The one-way Changed callbacks went before each Add's reply, on the same session.
        Assert.Equal([2, 10, 5], client.Changes.ToArray());
        ((IClientChannel)first).Close();
        ((IClientChannel)second).Close();
        factory.Close();
    }

    [Fact]
    public void A_reliable_session_keeps_one_actor_for_the_whole_session()
    {
        var client = new TallyClient(limit: 100);
        var factory = Factory(client, reliable: true);
        var tally = factory.CreateChannel();

        Assert.Equal(1, tally.Add(1));
        Assert.Equal(3, tally.Add(2));
        Assert.Equal(3, tally.Total());
        Assert.Equal([1, 3], client.Changes.ToArray()); // one-way callbacks on the service's own sequence
        ((IClientChannel)tally).Close();
        factory.Close();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_Task_operation_awaits_a_request_reply_callback_in_the_actor(bool reliable)
    {
        var factory = Factory(new TallyClient(limit: 10), reliable);
        var tally = factory.CreateChannel();

        tally.Add(7);
        Assert.Equal("confirmed 7", tally.Confirm());
        tally.Add(7);
        Assert.Equal("rejected 14", tally.Confirm());
        ((IClientChannel)tally).Close();
        factory.Close();
    }

    [Fact]
    public void A_FaultException_reaches_the_client_typed_and_another_exception_as_WCFs_internal_error()
    {
        var factory = Factory(new TallyClient(limit: 10));
        var tally = factory.CreateChannel();
        tally.Add(3);

        var fault = Assert.Throws<FaultException<TallyFault>>(() => tally.Take(5));
        Assert.Equal((3, "Cannot take 5.", "Overdrawn"), (fault.Detail.Total, fault.Reason.ToString(), fault.Code.SubCode?.Name));
        Assert.Equal(1, tally.Take(2)); // the session and the actor's state go on

        var crash = Assert.Throws<FaultException>(() => tally.Crash());
        Assert.StartsWith("The server was unable to process the request due to an internal error.", crash.Reason.ToString());
        Assert.DoesNotContain("broken", crash.Reason.ToString());
        Assert.Equal("InternalServiceFault", crash.Code.SubCode?.Name);
        ((IClientChannel)tally).Abort();
        factory.Abort();
    }
}
