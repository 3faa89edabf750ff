using System.ServiceModel;
using System.ServiceModel.Channels;

namespace AkkaPortShare.ServiceModel.Dispatch;

/// <summary>SOAP fault messages the way a WCF service sends them, so the client raises the matching exception.</summary>
internal static class SoapFaults
{
    private const string AddressingNamespace = "http://www.w3.org/2005/08/addressing";
    private const string DefaultFaultAction = AddressingNamespace + "/soap/fault";
    private const string AddressingFaultAction = AddressingNamespace + "/fault";
    private const string Soap12Namespace = "http://www.w3.org/2003/05/soap-envelope";
    private const string DispatcherNamespace = "http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher";

    // The client package's reference assembly lacks FaultCode.CreateSenderFaultCode(name, ns); build the codes directly.
    private static FaultCode Sender(FaultCode? subCode = null) => new("Sender", Soap12Namespace, subCode);
    private static FaultCode Receiver(FaultCode? subCode = null) => new("Receiver", Soap12Namespace, subCode);

    /// <summary>The standard answer to an action the contract does not have: the client throws ActionNotSupportedException.</summary>
    public static Message ActionNotSupported(MessageVersion version, string action) =>
        Message.CreateMessage(version, Sender(new FaultCode("ActionNotSupported", AddressingNamespace)),
            $"The message with Action '{action}' cannot be processed at the receiver, due to a ContractFilter mismatch " +
            "at the EndpointDispatcher. This may be because of either a contract mismatch (mismatched Actions between " +
            "sender and receiver) or a binding/security mismatch between the sender and the receiver.",
            AddressingFaultAction);

    /// <summary>A service fault: typed when the detail's type is in the operation's [FaultContract].</summary>
    public static Message FromService(MessageVersion version, Contracts.OperationMap operation, ServiceOperations.OperationFault fault)
    {
        var code = fault.Code is null ? Sender() : Sender(new FaultCode(fault.Code));
        // The detail is written with the DataContractSerializer of its type, as WCF does for [FaultContract] details.
        if (fault.Detail is { } detail && operation.Faults.FirstOrDefault(f => f.DetailType == detail.GetType()) is { } typed)
            return Message.CreateMessage(version, code, fault.Reason, detail, typed.Action);
        return Message.CreateMessage(version, code, fault.Reason, DefaultFaultAction);
    }

    /// <summary>
    /// A request whose body the service cannot read (a reader quota passed, a value its serializer refuses): WCF's
    /// formatter fault, Sender / DeserializationFailed, which the client throws as a FaultException with that subcode.
    /// </summary>
    public static Message DeserializationFailed(MessageVersion version, Exception cause) =>
        Message.CreateMessage(version, Sender(new FaultCode("DeserializationFailed", DispatcherNamespace)),
            $"The formatter threw an exception while trying to deserialize the message: {cause.Message}", DispatcherNamespace + "/fault");

    /// <summary>The service failed to answer (timeout, crash): a receiver fault, like WCF's internal service fault.</summary>
    public static Message Internal(MessageVersion version, string reason) =>
        Message.CreateMessage(version, Receiver(new FaultCode("InternalServiceFault", DispatcherNamespace)), reason,
            DefaultFaultAction);
}
