using System.ServiceModel;
using AkkaPortShare.ServiceModel;

namespace AkkaPortShare.Samples.Echo;

/// <summary>
/// <see cref="IBasket"/> in the actor style, next to <see cref="BasketService"/>: the same methods, run in the actor's
/// mailbox (<see cref="ContractActor{TContract}"/>), one actor per session (<c>ServeActor&lt;BasketActor&gt;</c>,
/// <c>--basket-actor-address</c>). What changes: the base class, and the callback proxy taken from the actor rather
/// than OperationContext. What it gains: messages of its own next to the contract's (here, a price change another
/// actor could send) without locks.
/// </summary>
public sealed class BasketActor : ContractActor<IBasket>, IBasket
{
    private readonly Dictionary<string, BasketItem> _items = new(StringComparer.Ordinal);

    /// <summary>A message of the actor's own: reprices an item already in the basket.</summary>
    public sealed record Reprice(string Sku, decimal UnitPrice);

    public BasketActor() => Receive<Reprice>(r =>
    {
        if (_items.TryGetValue(r.Sku, out var item)) item.UnitPrice = r.UnitPrice;
    });

    public decimal Add(BasketItem item)
    {
        _items[item.Sku] = _items.TryGetValue(item.Sku, out var held)
            ? new BasketItem { Sku = item.Sku, Quantity = held.Quantity + item.Quantity, UnitPrice = item.UnitPrice }
            : item;
        GetCallbackChannel<IBasketEvents>().Changed(_items.Count, Total());
        return Total();
    }

    public decimal Remove(string sku)
    {
        if (!_items.Remove(sku))
            throw new FaultException<BasketFault>(new BasketFault { Sku = sku, Problem = "not in the basket" },
                new FaultReason($"{sku} is not in the basket."), new FaultCode("Sender", new FaultCode("UnknownItem")), null);
        GetCallbackChannel<IBasketEvents>().Changed(_items.Count, Total());
        return Total();
    }

    public decimal Total() => _items.Values.Sum(i => i.Quantity * i.UnitPrice);

    public Receipt Checkout() => new() { Lines = _items.Count, Total = Total() };
}
