using System.Collections.Concurrent;
using System.Runtime.Serialization;
using System.ServiceModel;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

// The client's own copy of the sample's IBasket, as svcutil would generate it from the service's metadata.
[ServiceContract(Namespace = "urn:akkaportshare:samples", SessionMode = SessionMode.Required, CallbackContract = typeof(IBasketEvents))]
public interface IBasket
{
    [OperationContract] decimal Add(BasketItem item);
    [OperationContract] [FaultContract(typeof(BasketFault))] decimal Remove(string sku);
    [OperationContract] decimal Total();
    [OperationContract(IsTerminating = true)] Receipt Checkout();
}

public interface IBasketEvents
{
    [OperationContract(IsOneWay = true)] void Changed(int lines, decimal total);
}

[DataContract(Namespace = "urn:akkaportshare:samples")]
public sealed class BasketItem
{
    [DataMember] public string Sku { get; set; } = "";
    [DataMember] public int Quantity { get; set; }
    [DataMember] public decimal UnitPrice { get; set; }
}

[DataContract(Namespace = "urn:akkaportshare:samples")]
public sealed class Receipt
{
    [DataMember] public int Lines { get; set; }
    [DataMember] public decimal Total { get; set; }
}

[DataContract(Namespace = "urn:akkaportshare:samples")]
public sealed class BasketFault
{
    [DataMember] public string Sku { get; set; } = "";
    [DataMember] public string Problem { get; set; } = "";
}

/// <summary>The client's callback object: records what the service told it.</summary>
[CallbackBehavior(UseSynchronizationContext = false)]
public sealed class BasketEvents : IBasketEvents
{
    public BlockingCollection<(int Lines, decimal Total)> Seen { get; } = new(boundedCapacity: 64);

    public void Changed(int lines, decimal total) => Seen.TryAdd((lines, total));
}

/// <summary>A router and a worker serving the sample's BasketService class and BasketActor, the same contract.</summary>
public sealed class MovedServiceFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();

    public async Task InitializeAsync()
    {
        await Host.StartRouterAsync();
        await Host.StartWorkerAsync("worker-B",
            ["--basket-address", Host.Address("basket/"), "--basket-actor-address", Host.Address("basket-actor/")],
            "basket/", "basket-actor/");
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// The README's example of a WCF service moved over: BasketService, a plain service class served unchanged, and
/// BasketActor, the same contract in the actor style, each called by the real WCF duplex client through the router:
/// data contracts, a typed fault, a one-way callback, per-session state, a terminating operation, plain and reliable.
/// </summary>
public sealed class MovedServiceSpec(MovedServiceFixture fixture) : IClassFixture<MovedServiceFixture>
{
    private static readonly TimeSpan CallbackWait = TimeSpan.FromSeconds(15);

    private (DuplexChannelFactory<IBasket> Factory, IBasket Basket, BasketEvents Events) Open(string path, bool reliable)
    {
        var events = new BasketEvents();
        var binding = new NetTcpBinding(SecurityMode.None, reliable) { SendTimeout = TimeSpan.FromSeconds(30) };
        var factory = new DuplexChannelFactory<IBasket>(new InstanceContext(events), binding,
            new EndpointAddress(fixture.Host.Via(path)));
        return (factory, factory.CreateChannel(), events);
    }

    private static (int, decimal) NextEvent(BasketEvents events) =>
        events.Seen.TryTake(out var seen, CallbackWait) ? seen : throw new TimeoutException("no Changed callback within 15 s");

    [Theory]
    [InlineData("basket/", false)]
    [InlineData("basket/", true)]
    [InlineData("basket-actor/", false)]
    [InlineData("basket-actor/", true)]
    public void A_session_keeps_its_own_basket_tells_the_client_and_ends_with_its_receipt(string path, bool reliable)
    {
        var (factory, basket, events) = Open(path, reliable);
        var (otherFactory, other, _) = Open(path, reliable);

        Assert.Equal(5m, basket.Add(new BasketItem { Sku = "tea", Quantity = 2, UnitPrice = 2.5m }));
        Assert.Equal((1, 5m), NextEvent(events));
        Assert.Equal(8m, basket.Add(new BasketItem { Sku = "cup", Quantity = 1, UnitPrice = 3m }));
        Assert.Equal((2, 8m), NextEvent(events));
        Assert.Equal(1m, other.Add(new BasketItem { Sku = "pen", Quantity = 1, UnitPrice = 1m })); // its own instance

        var fault = Assert.Throws<FaultException<BasketFault>>(() => basket.Remove("pen"));
        Assert.Equal(("pen", "not in the basket", "UnknownItem", "pen is not in the basket."),
            (fault.Detail.Sku, fault.Detail.Problem, fault.Code.SubCode?.Name, fault.Reason.ToString()));
        Assert.Equal(5m, basket.Remove("cup")); // a typed fault leaves the session and its state as they were
        Assert.Equal((1, 5m), NextEvent(events));

        var receipt = basket.Checkout();

        Assert.Equal((1, 5m), (receipt.Lines, receipt.Total));
        Assert.Equal(CommunicationState.Closed, ((IClientChannel)basket).State); // WCF's client closes after IsTerminating
        Assert.Equal(1m, other.Total());
        ((IClientChannel)other).Close();
        otherFactory.Close();
        factory.Close();
    }

    [Theory]
    [InlineData("basket/")]
    [InlineData("basket-actor/")]
    public void A_new_session_starts_with_an_empty_basket(string path)
    {
        var (factory, basket, _) = Open(path, reliable: false);
        basket.Add(new BasketItem { Sku = "tea", Quantity = 1, UnitPrice = 2m });
        ((IClientChannel)basket).Close();

        var next = factory.CreateChannel();

        Assert.Equal(0m, next.Total());
        ((IClientChannel)next).Close();
        factory.Close();
    }
}
