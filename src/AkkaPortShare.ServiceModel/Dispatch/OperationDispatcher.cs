using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using AkkaPortShare.Worker;
using Akka.Event;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Dispatch;

/// <summary>
/// Turns a request message into a call of the implementation actor, and its answer into the reply message, for
/// buffered sessions whether plain or reliable. The request is read before the first await, so the caller may
/// dispose it as soon as this returns. The endpoint's call counters are recorded here, where calls begin and end.
/// </summary>
internal sealed class OperationDispatcher(
    ContractMap contract, IActorRef implementation, ServiceModelSettings settings, MessageVersion version,
    string sessionId, ILoggingAdapter log, EndpointMetrics metrics, Caller? caller = null)
{
    /// <summary>The reply to send (RelatesTo set), or null when none is due: one-way, or nothing to relate it to.</summary>
    public Task<Message?> DispatchAsync(Message request, IActorRef callback)
    {
        var action = request.Headers.Action ?? "";
        var messageId = request.Headers.MessageId;
        if (contract.TryGetUnsupported(action, out var refused))
        {
            log.Info("Session {0}: {1} of {2} was refused at start-up; answering a fault", sessionId, refused!.Name, contract.ContractName);
            metrics.CallNotDispatched(refused.Name);
            return Reply(messageId is null ? null : SoapReplies.NotSupported(version, refused), messageId);
        }
        if (!contract.TryGetOperation(action, out var operation))
        {
            log.Info("Session {0}: no operation of {1} has action {2}", sessionId, contract.ContractName, action);
            return Reply(messageId is null ? null : SoapFaults.ActionNotSupported(version, action), messageId);
        }

        object?[] arguments;
        try
        {
            arguments = OperationBody.ReadArguments(request, operation!);
        }
        catch (Exception e)
        {
            // Whatever the serializers throw on this input (SerializationException, XmlException,
            // InvalidDataContractException, FormatException...): the client gets a fault, the session goes on.
            log.Warning("Session {0}: cannot read the arguments of {1} ({2}: {3})", sessionId, operation!.Name, e.GetType().Name, e.Message);
            metrics.CallNotDispatched(operation.Name);
            return Reply(operation.IsOneWay ? null : SoapFaults.DeserializationFailed(version, e), messageId);
        }

        var invoked = new OperationInvoked(operation.Name, arguments, callback, sessionId) { ClientCertificate = caller?.Certificate, ClientIdentity = caller?.Identity };
        if (operation.IsOneWay || messageId is null)
        {
            metrics.CallStarted(operation.Name, awaitsAnswer: false);
            implementation.Tell(invoked, callback);
            return Reply(null, null);
        }
        return AskAsync(operation, invoked, messageId, metrics.CallStarted(operation.Name, awaitsAnswer: true));
    }

    private async Task<Message?> AskAsync(OperationMap operation, OperationInvoked invoked, UniqueId messageId, long startedAt)
    {
        object answer;
        try
        {
            answer = await implementation.Ask<object>(invoked, settings.OperationTimeout).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            answer = e;
        }
        metrics.CallAnswered(operation.Name, startedAt, answer);
        var reply = SoapReplies.For(version, operation, answer);
        reply.Headers.RelatesTo = messageId;
        return reply;
    }

    private static Task<Message?> Reply(Message? reply, UniqueId? relatesTo)
    {
        if (reply is not null && relatesTo is not null) reply.Headers.RelatesTo = relatesTo;
        return Task.FromResult(reply);
    }
}
