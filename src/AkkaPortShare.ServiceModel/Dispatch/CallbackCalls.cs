using System.Runtime.Serialization;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using AkkaPortShare.ServiceModel.Contracts;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Dispatch;

/// <summary>
/// Calls of the client's callback contract from a service, for plain and reliable sessions alike: the request
/// message out, and for request/reply callbacks the client's answer back to the actor that asked. A fault from the
/// client reaches the caller as WCF raises it: a Status.Failure carrying <c>FaultException&lt;TDetail&gt;</c> when the
/// detail is one of the callback operation's [FaultContract] types, <see cref="FaultException"/> otherwise, with the
/// client's reason, code and action.
/// </summary>
internal sealed class CallbackCalls(ContractMap contract, MessageVersion version)
{
    private const string AnonymousAddress = "http://www.w3.org/2005/08/addressing/anonymous";
    private readonly Dictionary<UniqueId, (IActorRef Caller, OperationMap Operation)> _pending = new();

    /// <summary>A request/reply callback waits for the client's answer.</summary>
    public bool HasPending => _pending.Count > 0;

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
            message.Headers.ReplyTo = new EndpointAddress(AnonymousAddress);
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
                ? new Status.Failure(FaultOf(message, pending.Operation))
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

    /// <summary>
    /// The session ended: no answer can come any more, so every caller still waiting hears it now rather than at its
    /// own timeout (WCF aborts a duplex channel's outstanding requests the same way).
    /// </summary>
    public void FailAll(string sessionId)
    {
        foreach (var (_, pending) in _pending)
            pending.Caller.Tell(new Status.Failure(new CommunicationObjectAbortedException(
                $"The session {sessionId} ended while the callback {pending.Operation.Name} waited for the client's answer.")));
        _pending.Clear();
    }

    private static FaultException FaultOf(Message message, OperationMap operation)
    {
        var action = message.Headers.Action;
        var fault = MessageFault.CreateFault(message, int.MaxValue);
        if (fault.HasDetail)
        {
            // WCF's client picks the [FaultContract] whose detail element this is (by action first, as its formatter does).
            foreach (var declared in operation.Faults.OrderByDescending(f => f.Action == action))
            {
                var serializer = new DataContractSerializer(declared.DetailType);
                using var reader = fault.GetReaderAtDetailContents();
                if (!serializer.IsStartObject(reader)) continue;
                var detail = serializer.ReadObject(reader);
                var typed = typeof(FaultException<>).MakeGenericType(declared.DetailType);
                return (FaultException)Activator.CreateInstance(typed, detail, fault.Reason, fault.Code, action)!;
            }
        }
        return new FaultException(fault.Reason, fault.Code, action);
    }
}
