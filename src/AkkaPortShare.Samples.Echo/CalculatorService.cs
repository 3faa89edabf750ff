using System.Runtime.Serialization;
using System.ServiceModel;
using AkkaPortShare.ServiceModel;

namespace AkkaPortShare.Samples.Echo;

/// <summary>
/// A plain WCF service class, written as for .NET Framework's ServiceHost and served unchanged with
/// <c>ServeService&lt;CalculatorService&gt;</c>: per-session state in fields, a typed fault, a Task-based operation.
/// The only addition a move from .NET Framework needs is <c>using AkkaPortShare.ServiceModel;</c> for
/// [ServiceBehavior] (WCF's client packages for .NET do not have it).
/// </summary>
[ServiceBehavior(InstanceContextMode = InstanceContextMode.PerSession)]
public sealed class CalculatorService : ICalculator, IDisposable
{
    private double _total;

    public double Add(double value) => _total += value;

    public double Divide(double by)
    {
        if (by == 0) throw new FaultException<CalculatorFault>(new CalculatorFault { Operation = "Divide", Problem = "division by zero" },
            new FaultReason("Cannot divide by zero."), new FaultCode("Sender", new FaultCode("DivideByZero")), null);
        return _total /= by;
    }

    public async Task<string> DescribeAsync()
    {
        await Task.Yield();
        return $"total={_total}";
    }

    public double Total() => _total;

    public void Fail() => throw new InvalidOperationException("internal state the client must not see");

    public void Dispose() => _total = double.NaN;
}

[ServiceContract(Namespace = "urn:akkaportshare:samples", SessionMode = SessionMode.Required)]
public interface ICalculator
{
    /// <summary>Adds to this session's running total and returns it.</summary>
    [OperationContract]
    double Add(double value);

    [OperationContract]
    [FaultContract(typeof(CalculatorFault))]
    double Divide(double by);

    [OperationContract]
    Task<string> DescribeAsync();

    [OperationContract]
    double Total();

    /// <summary>Throws an ordinary exception: the client gets WCF's generic internal-error fault.</summary>
    [OperationContract]
    void Fail();
}

[DataContract(Namespace = "urn:akkaportshare:samples")]
public sealed class CalculatorFault
{
    [DataMember] public string Operation { get; set; } = "";
    [DataMember] public string Problem { get; set; } = "";
}
