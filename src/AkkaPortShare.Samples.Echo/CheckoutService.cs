using System.ServiceModel;
using AkkaPortShare.ServiceModel;

namespace AkkaPortShare.Samples.Echo;

/// <summary>
/// A plain WCF session service class with WCF's session rules, served unchanged with <c>ServeService</c>: a session
/// starts with Start (IsInitiating), ends with Pay (IsTerminating); Confirm asks the client to approve with a
/// request/reply callback, during which the client may call the session again (ConcurrencyMode Reentrant). An
/// exception that is not a FaultException ends the session and its instance, as in WCF; a FaultException does not.
/// </summary>
#pragma warning disable CS0612 // Reentrant is obsolete in WCF's client packages, yet it is what services declare
[ServiceBehavior(InstanceContextMode = InstanceContextMode.PerSession, ConcurrencyMode = ConcurrencyMode.Reentrant)]
#pragma warning restore CS0612
public class CheckoutService : ICheckoutService, IDisposable
{
    private static int _disposed;
    private int _total;
    private bool _started;

    public int Start(string customer)
    {
        _started = true;
        return _total = 0;
    }

    public int Add(int amount) => _total += amount;
    public int Total() => _total;

    public string Confirm()
    {
        var client = OperationContext.Current.GetCallbackChannel<ICheckoutCallback>();
        return client.Approve(_total) ? $"approved {_total}" : "declined";
    }

    public void Crash() => throw new InvalidOperationException("the till jammed");
    public void CrashOneWay() => throw new InvalidOperationException("the printer jammed");
    public void Refuse() => throw new FaultException("refused");

    public int Pay() => _total;

    public int InstancesDisposed() => Volatile.Read(ref _disposed);

    public void Dispose()
    {
        if (_started) Interlocked.Increment(ref _disposed);
    }
}

/// <summary>
/// The same service with WCF's default ConcurrencyMode Single: its Confirm's request/reply callback would deadlock, and
/// WCF refuses it with an InvalidOperationException (shown to the client: IncludeExceptionDetailInFaults).
/// </summary>
[ServiceBehavior(InstanceContextMode = InstanceContextMode.PerSession, ConcurrencyMode = ConcurrencyMode.Single,
    IncludeExceptionDetailInFaults = true)]
public sealed class SingleCheckoutService : CheckoutService;

[ServiceContract(Namespace = "urn:akkaportshare:samples", SessionMode = SessionMode.Required, CallbackContract = typeof(ICheckoutCallback))]
public interface ICheckoutService
{
    [OperationContract] int Start(string customer);
    [OperationContract(IsInitiating = false)] int Add(int amount);
    [OperationContract(IsInitiating = false)] int Total();

    /// <summary>Asks the client to approve the total (a request/reply callback).</summary>
    [OperationContract(IsInitiating = false)] string Confirm();

    [OperationContract(IsInitiating = false)] void Crash();
    [OperationContract(IsInitiating = false, IsOneWay = true)] void CrashOneWay();
    [OperationContract(IsInitiating = false)] void Refuse();

    /// <summary>Ends the session: WCF's client closes its channel after the reply, the service its instance.</summary>
    [OperationContract(IsInitiating = false, IsTerminating = true)] int Pay();

    /// <summary>How many instances that had Start called were disposed so far (to show sessions ending).</summary>
    [OperationContract] int InstancesDisposed();
}

public interface ICheckoutCallback
{
    [OperationContract] bool Approve(int total);
}
