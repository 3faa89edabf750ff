using System.Runtime.Serialization;
using System.ServiceModel;
using System.ServiceModel.Channels;

namespace AkkaPortShare.ServiceModel.Tests.TestSupport;

/// <summary>
/// A contract with what the sample lacks: several parameters, value types, a data contract in and out, a void
/// request/reply operation.
/// </summary>
[ServiceContract(Namespace = Ns)]
public interface IOrders
{
    public const string Ns = "urn:akkaportshare:tests";

    [OperationContract]
    int Add(int a, int b);

    [OperationContract]
    Order Place(Order order, string? note);

    [OperationContract(IsOneWay = true)]
    void Notify(string text);

    [OperationContract]
    void Reset();

    [OperationContract]
    [FaultContract(typeof(OrderFault))]
    int Divide(int a, int b);
}

/// <summary>A duplex contract whose callback contract has a request/reply operation as well as a one-way one.</summary>
[ServiceContract(Namespace = IOrders.Ns, CallbackContract = typeof(IApprovalCallback))]
public interface IApprovals
{
    [OperationContract]
    bool Submit(Order order);
}

public interface IApprovalCallback
{
    [OperationContract(IsOneWay = true)]
    void Progress(int percent);

    [OperationContract]
    string Confirm(string question);
}

[DataContract(Namespace = IOrders.Ns)]
public sealed class Order
{
    [DataMember] public int Id { get; set; }
    [DataMember] public string Item { get; set; } = "";
    [DataMember] public decimal Price { get; set; }
    [DataMember] public List<string> Tags { get; set; } = [];
}

[DataContract(Namespace = IOrders.Ns)]
public sealed class OrderFault
{
    [DataMember] public string Problem { get; set; } = "";
}

/// <summary>Operations outside the supported style (wrapped data contracts).</summary>
[ServiceContract(Namespace = IOrders.Ns)]
public interface IMessageContractService
{
    [OperationContract]
    PingReply Ping(PingRequest request);
}

[ServiceContract(Namespace = IOrders.Ns)]
public interface IUntypedService
{
    [OperationContract(Action = "*", ReplyAction = "*")]
    Message Process(Message request);
}

[MessageContract]
public sealed class PingRequest
{
    [MessageBodyMember] public string Text { get; set; } = "";
}

[MessageContract]
public sealed class PingReply
{
    [MessageBodyMember] public string Text { get; set; } = "";
}

/// <summary>Task-based operations: WCF describes them like their synchronous twins (Add, Reset).</summary>
[ServiceContract(Namespace = IOrders.Ns, Name = "IOrders")]
public interface IOrdersAsync
{
    [OperationContract]
    Task<int> AddAsync(int a, int b);

    [OperationContract]
    Task ResetAsync();
}

/// <summary>Names and actions set on the attributes.</summary>
[ServiceContract(Namespace = IOrders.Ns)]
public interface IRenamed
{
    [OperationContract(Name = "Sum", Action = "urn:custom/sum", ReplyAction = "urn:custom/sum-reply")]
    [return: MessageParameter(Name = "total")]
    int Add([MessageParameter(Name = "left")] int a, int b);
}

/// <summary>Out parameters travel in the reply, next to the return value.</summary>
[ServiceContract(Namespace = IOrders.Ns)]
public interface IOutParameters
{
    [OperationContract]
    int Divide(int a, int b, out int remainder);
}
