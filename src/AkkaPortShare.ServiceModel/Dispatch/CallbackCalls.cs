using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using AkkaPortShare.ServiceModel.Contracts;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Dispatch;

/// <summary>
/// Calls of the client's callback contract from a service, for plain and reliable sessions alike: the request
/// message out, and for request/reply callbacks the client's answer back to the actor that asked.
/// </summary>
internal sealed class CallbackCalls(ContractMap contract, MessageVersion version)
{
    private const string AnonymousAddress = "http://www.w3.org/2005/08/addressing/anonymous";
    private readonly Dictionary<UniqueId, (IActorRef Caller, OperationMap Operation)> _pending = new();

    /// <summary>The message to send, or null after telling <paramref name="caller"/> the operation does not exist.</summary>
    public Message? CreateRequest(InvokeCallback callback, IActorRef caller)
    {
        if (!contract.TryGetCallback(callback.Operation, out var operation))
        {
            caller.Tell(new Status.Failure(new ArgumentException(
                $"{callback.Operation} is not an operation of {contract.ContractName}'s callback contract.")));
            return null;
        }
        var message = Message.CreateMessage(version, operation!.Action, OperationBody.Request(operation, callback.Arguments));
        if (!operation.IsOneWay)
        {
            var id = new UniqueId();
            message.Headers.MessageId = id;
            message.Headers.ReplyTo = new System.ServiceModel.EndpointAddress(AnonymousAddress);
            _pending[id] = (caller, operation);
        }
        return message;
    }

    /// <summary>True when <paramref name="message"/> answered a callback; the caller then got its result or fault.</summary>
    public bool TryAnswer(Message message)
    {
        if (message.Headers.RelatesTo is not { } relatesTo || !_pending.Remove(relatesTo, out var pending)) return false;
        try
        {
            pending.Caller.Tell(message.IsFault
                ? new OperationFault(MessageFault.CreateFault(message, int.MaxValue).Reason.ToString())
                : new OperationResult(OperationBody.ReadResult(message.GetReaderAtBodyContents(), pending.Operation)));
        }
        catch (Exception e)
        {
            // The client's answer is unreadable: the caller learns that rather than waiting forever.
            pending.Caller.Tell(new Status.Failure(e));
        }
        return true;
    }

    /// <summary>A callback request that could not be sent: its caller gets the failure now.</summary>
    public void Fail(UniqueId messageId, Exception cause)
    {
        if (_pending.Remove(messageId, out var pending)) pending.Caller.Tell(new Status.Failure(cause));
    }
}
