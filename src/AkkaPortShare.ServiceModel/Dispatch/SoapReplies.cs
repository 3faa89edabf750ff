using System.ServiceModel.Channels;
using AkkaPortShare.ServiceModel.Contracts;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Dispatch;

/// <summary>The reply message for whatever the implementation actor answered (or the failure to answer).</summary>
internal static class SoapReplies
{
    public static Message For(MessageVersion version, OperationMap operation, object answer) => answer switch
    {
        OperationResult { ReturnValue: Stream stream } => Message.CreateMessage(version, operation.ReplyAction,
            OperationBody.StreamReply(operation, stream)),
        OperationResult result => Message.CreateMessage(version, operation.ReplyAction,
            OperationBody.Reply(operation, result.ReturnValue)),
        OperationFault fault => SoapFaults.FromService(version, operation, fault),
        // A service class threw: the reason is WCF's generic text unless it includes exception detail in faults.
        Instancing.ServiceFailure failure => SoapFaults.Internal(version, failure.Message),
        Exception e => SoapFaults.Internal(version, $"The service did not answer {operation.Name}: {e.Message}"),
        _ => SoapFaults.Internal(version, $"The service answered {operation.Name} with {answer.GetType().Name}, " +
            "not OperationResult or OperationFault."),
    };
}
