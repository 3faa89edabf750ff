using System.ServiceModel;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

// The client side's own copy of the sample's ICheckoutService and its callback contract, as svcutil would generate them.
[ServiceContract(Namespace = "urn:akkaportshare:samples", SessionMode = SessionMode.Required, CallbackContract = typeof(ICheckoutCallback))]
public interface ICheckoutService
{
    [OperationContract] int Start(string customer);
    [OperationContract(IsInitiating = false)] int Add(int amount);
    [OperationContract(IsInitiating = false)] int Total();
    [OperationContract(IsInitiating = false)] string Confirm();
    [OperationContract(IsInitiating = false)] void Crash();
    [OperationContract(IsInitiating = false, IsOneWay = true)] void CrashOneWay();
    [OperationContract(IsInitiating = false)] void Refuse();
    [OperationContract(IsInitiating = false, IsTerminating = true)] int Pay();
    [OperationContract] int InstancesDisposed();
}

public interface ICheckoutCallback
{
    [OperationContract] bool Approve(int total);
}

/// <summary>
/// The same contract as a careless client declares it: no initiation or termination rules, so WCF's client sends what
/// its own rules would refuse, and the test sees what the service answers (as a raw client would).
/// </summary>
[ServiceContract(Name = "ICheckoutService", Namespace = "urn:akkaportshare:samples", SessionMode = SessionMode.Required)]
public interface ICheckoutWithoutRules
{
    [OperationContract] int Add(int amount);
    [OperationContract] int Pay();
}

/// <summary>
/// The client's callback object: approves, after calling the service again on the same session while the service's
/// Confirm waits for this answer (a reentrant call). Multiple, so WCF's client lets a callback call out.
/// </summary>
[CallbackBehavior(ConcurrencyMode = ConcurrencyMode.Multiple, UseSynchronizationContext = false)]
public sealed class Approver : ICheckoutCallback
{
    public ICheckoutService? Service { get; set; }
    public int SeenTotal { get; private set; } = -1;

    public bool Approve(int total)
    {
        SeenTotal = Service!.Total();
        return total == SeenTotal;
    }
}

/// <summary>A router and a worker serving the sample's CheckoutService (Reentrant) and SingleCheckoutService.</summary>
public sealed class ServiceSessionRulesFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();
    public Uri Checkout => new(Host.Via("checkout/"));
    public Uri SingleCheckout => new(Host.Via("checkout/single/"));

    public async Task InitializeAsync()
    {
        await Host.StartRouterAsync();
        await Host.StartWorkerAsync("worker-S", ["--checkout-address", Host.Address("checkout/")], "checkout/", "checkout/single/");
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// WCF's session rules and concurrency modes for a plain service class served unchanged, seen by the real WCF client
/// through the router: IsInitiating / IsTerminating, what an unhandled exception ends (plain and reliable sessions),
/// a Reentrant service called back into during its own callback, and a Single one's refused callback.
/// </summary>
public sealed class ServiceSessionRulesSpec(ServiceSessionRulesFixture fixture) : IClassFixture<ServiceSessionRulesFixture>
{
    private static NetTcpBinding Binding(bool reliable = false) => new(SecurityMode.None, reliable)
    {
        SendTimeout = TimeSpan.FromSeconds(30),
        ReceiveTimeout = TimeSpan.FromSeconds(30),
        OpenTimeout = TimeSpan.FromSeconds(30),
        CloseTimeout = TimeSpan.FromSeconds(10),
    };

    private (DuplexChannelFactory<ICheckoutService> Factory, ICheckoutService Channel) Open(Uri? address = null, bool reliable = false,
        Approver? approver = null)
    {
        approver ??= new Approver();
        var factory = new DuplexChannelFactory<ICheckoutService>(new InstanceContext(approver), Binding(reliable),
            new EndpointAddress(address ?? fixture.Checkout));
        var channel = factory.CreateChannel();
        approver.Service = channel;
        return (factory, channel);
    }

    private int InstancesDisposed()
    {
        var (factory, channel) = Open();
        try
        {
            return channel.InstancesDisposed();
        }
        finally
        {
            ((IClientChannel)channel).Abort();
            factory.Abort();
        }
    }

    private async Task AwaitInstancesDisposedAsync(int atLeast)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (InstancesDisposed() < atLeast)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {atLeast} instances disposed within 15 s");
            await Task.Delay(100);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_terminating_operation_ends_the_session_and_its_instance(bool reliable)
    {
        var disposedBefore = InstancesDisposed();
        var (factory, checkout) = Open(reliable: reliable);

        checkout.Start("ann");
        checkout.Add(5);
        Assert.Equal(5, checkout.Pay());

        // WCF's client closes its channel after the terminating reply; the service released the session's instance.
        Assert.Equal(CommunicationState.Closed, ((IClientChannel)checkout).State);
        await AwaitInstancesDisposedAsync(disposedBefore + 1);
        factory.Close();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_service_answers_a_non_initiating_first_call_and_refuses_calls_after_a_terminating_one(bool reliable)
    {
        // WCF's rules are declared on the service's contract; this client does not know them, as a raw client would not.
        using var factory = new ChannelFactory<ICheckoutWithoutRules>(Binding(reliable), new EndpointAddress(fixture.Checkout));
        var careless = factory.CreateChannel();

        // WCF's server dispatches a non-initiating operation that comes first (only WCF's client refuses to send it).
        Assert.Equal(3, careless.Add(3));
        Assert.Equal(3, careless.Pay());
        // After the terminating operation: WCF's SessionTerminated fault, which WCF's client raises as ChannelTerminatedException.
        var refused = Assert.Throws<ChannelTerminatedException>(() => careless.Add(1));
        Assert.Contains("IsTerminating", refused.Message);
        ((IClientChannel)careless).Abort();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_unhandled_exception_faults_the_session_and_ends_its_instance(bool reliable)
    {
        var disposedBefore = InstancesDisposed();
        var (factory, checkout) = Open(reliable: reliable);
        checkout.Start("bob");
        Assert.Equal(2, checkout.Add(2));

        var fault = Assert.Throws<FaultException>(() => checkout.Crash());

        Assert.DoesNotContain("till", fault.Message); // no exception detail by default
        Assert.Equal(CommunicationState.Faulted, ((IClientChannel)checkout).State);
        Assert.ThrowsAny<CommunicationException>(() => checkout.Total());
        await AwaitInstancesDisposedAsync(disposedBefore + 1);
        factory.Abort();
    }

    [Fact]
    public void A_FaultException_keeps_the_session_and_its_instance()
    {
        var (factory, checkout) = Open();
        checkout.Start("cy");
        checkout.Add(4);

        Assert.Throws<FaultException>(() => checkout.Refuse());

        Assert.Equal(CommunicationState.Opened, ((IClientChannel)checkout).State);
        Assert.Equal(4, checkout.Total()); // the same instance
        ((IClientChannel)checkout).Close();
        factory.Close();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_one_way_operation_that_throws_aborts_the_session(bool reliable)
    {
        var disposedBefore = InstancesDisposed();
        var (factory, checkout) = Open(reliable: reliable);
        checkout.Start("dee");

        checkout.CrashOneWay(); // returns at once: a one-way call has no reply to carry the failure

        Assert.ThrowsAny<CommunicationException>(() => checkout.Total());
        await AwaitInstancesDisposedAsync(disposedBefore + 1);
        factory.Abort();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_Reentrant_service_takes_the_clients_call_made_while_it_waits_on_a_callback(bool reliable)
    {
        var approver = new Approver();
        var (factory, checkout) = Open(reliable: reliable, approver: approver);
        checkout.Start("eve");
        checkout.Add(7);

        // Confirm calls the client back; the client's callback calls Total on the same session before it answers.
        Assert.Equal("approved 7", checkout.Confirm());

        Assert.Equal(7, approver.SeenTotal);
        ((IClientChannel)checkout).Close();
        factory.Close();
    }

    [Fact]
    public void A_Single_concurrency_service_is_refused_a_request_reply_callback_as_WCF_refuses_it()
    {
        var (factory, checkout) = Open(fixture.SingleCheckout);
        checkout.Start("fay");

        // The service did not catch it: an internal error, whose text the client sees with IncludeExceptionDetailInFaults.
        var fault = Assert.ThrowsAny<FaultException>(() => checkout.Confirm());

        Assert.StartsWith("This operation would deadlock because the reply cannot be received until the current Message completes processing.",
            fault.Message);
        Assert.Contains("ServiceBehaviorAttribute", fault.Message);
        Assert.Equal(CommunicationState.Faulted, ((IClientChannel)checkout).State);
        factory.Abort();
    }
}
