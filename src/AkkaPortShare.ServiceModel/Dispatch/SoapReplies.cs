using System.ServiceModel;
using System.ServiceModel.Channels;
using AkkaPortShare.ServiceModel.Contracts;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Dispatch;

/// <summary>The reply message for whatever the implementation actor answered (or the failure to answer).</summary>
internal static class SoapReplies
{
    private const string FaultAction = "http://www.w3.org/2005/08/addressing/soap/fault";

    /// <summary>The subcode of the fault answering an operation the worker refused (see ContractMap.Unsupported).</summary>
    public const string NotSupportedCode = "OperationNotSupported";

    public const string NotSupportedCodeNamespace = "urn:akkaportshare:service-model";

    public static Message For(MessageVersion version, OperationMap operation, object answer)
    {
        try
        {
            return answer switch
            {
                OperationResult { ReturnValue: Message { Version: var v } } when v != version => SoapFaults.Internal(version,
                    $"The service answered {operation.Name} with a message of version {v}; the session uses {version}."),
                OperationResult result => OperationBody.ReplyMessage(version, operation, result.ReturnValue, result.Outputs),
                OperationFault fault => SoapFaults.FromService(version, operation, fault),
                // A service class threw: the reason is WCF's generic text unless it includes exception detail in faults.
                Instancing.ServiceFailure failure => SoapFaults.Internal(version, failure.Message),
                Exception e => SoapFaults.Internal(version, $"The service did not answer {operation.Name}: {e.Message}"),
                _ => SoapFaults.Internal(version, $"The service answered {operation.Name} with {answer.GetType().Name}, " +
                    "not OperationResult or OperationFault."),
            };
        }
        catch (InvalidCastException e)
        {
            // A result of the wrong type for the operation's shape (a [MessageContract] reply, say).
            return SoapFaults.Internal(version, $"The service's answer to {operation.Name} cannot be sent: {e.Message}");
        }
    }

    /// <summary>
    /// A call of an operation the worker refused at start-up: a receiver fault naming it and why, so the client
    /// throws a FaultException that says so instead of getting a wrong answer.
    /// </summary>
    public static Message NotSupported(MessageVersion version, UnsupportedOperation operation) =>
        Message.CreateMessage(version,
            // "Receiver" without a namespace is the predefined code, written in the session's own SOAP version.
            new FaultCode("Receiver", new FaultCode(NotSupportedCode, NotSupportedCodeNamespace)),
            $"The operation {operation.Name} is not supported by this service: {operation.Reason}", FaultAction);
}
