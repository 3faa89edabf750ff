using System.Runtime.Serialization;
using System.ServiceModel;
using AkkaPortShare.ServiceModel;

namespace AkkaPortShare.Samples.Echo;

/// <summary>
/// A WCF service as it was written for .NET Framework's ServiceHost, moved over unchanged: a session contract with
/// data contracts in and out, a fault contract, a duplex callback, per-session state and a terminating operation.
/// The one line a move adds is <c>using AkkaPortShare.ServiceModel;</c>, for [ServiceBehavior] (WCF's client packages
/// for .NET lack it). Served with <c>ServeService&lt;BasketService&gt;</c> (<c>--basket-address</c>); the same contract
/// in the actor style is <see cref="BasketActor"/>.
/// </summary>
[ServiceBehavior(InstanceContextMode = InstanceContextMode.PerSession, ConcurrencyMode = ConcurrencyMode.Single)]
public sealed class BasketService : IBasket, IDisposable
{
    private readonly Dictionary<string, BasketItem> _items = new(StringComparer.Ordinal); // this session's basket

    public decimal Add(BasketItem item)
    {
        _items[item.Sku] = _items.TryGetValue(item.Sku, out var held)
            ? new BasketItem { Sku = item.Sku, Quantity = held.Quantity + item.Quantity, UnitPrice = item.UnitPrice }
            : item;
        var total = Total();
        OperationContext.Current.GetCallbackChannel<IBasketEvents>().Changed(_items.Count, total); // one-way
        return total;
    }

    public decimal Remove(string sku)
    {
        if (!_items.Remove(sku))
            throw new FaultException<BasketFault>(new BasketFault { Sku = sku, Problem = "not in the basket" },
                new FaultReason($"{sku} is not in the basket."), new FaultCode("Sender", new FaultCode("UnknownItem")), null);
        var total = Total();
        OperationContext.Current.GetCallbackChannel<IBasketEvents>().Changed(_items.Count, total);
        return total;
    }

    public decimal Total() => _items.Values.Sum(i => i.Quantity * i.UnitPrice);

    public Receipt Checkout() => new() { Lines = _items.Count, Total = Total() };

    public void Dispose() => _items.Clear(); // the session ended: WCF disposes a PerSession instance, and so do we
}

[ServiceContract(Namespace = "urn:akkaportshare:samples", SessionMode = SessionMode.Required, CallbackContract = typeof(IBasketEvents))]
public interface IBasket
{
    /// <summary>Adds to this session's basket, tells the client (callback) and answers the new total.</summary>
    [OperationContract]
    decimal Add(BasketItem item);

    [OperationContract]
    [FaultContract(typeof(BasketFault))]
    decimal Remove(string sku);

    [OperationContract]
    decimal Total();

    /// <summary>Ends the session: the client's channel closes after the reply, the instance is released.</summary>
    [OperationContract(IsTerminating = true)]
    Receipt Checkout();
}

public interface IBasketEvents
{
    [OperationContract(IsOneWay = true)]
    void Changed(int lines, decimal total);
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
