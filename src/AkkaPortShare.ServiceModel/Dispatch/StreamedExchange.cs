using System.IO.Pipelines;
using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Dispatch;

/// <summary>
/// One request and its reply in WCF's streamed transfer mode. It runs as a task beside the session actor because
/// reading and writing a streamed message blocks on the network: the request is read from the framing layer's
/// bounded pipe as the service consumes it, and the reply is encoded into another bounded pipe that the framing
/// layer copies to the socket. Neither message is ever held whole.
/// </summary>
internal sealed class StreamedExchange(
    MessageEncoder encoder, ContractMap contract, IActorRef implementation, IActorRef framing, IActorRef callback,
    ServiceModelSettings settings, string sessionId, ILoggingAdapter log, EndpointMetrics metrics,
    Caller? caller = null)
{
    public async Task RunAsync(Stream requestBody)
    {
        try
        {
            using var request = await encoder.ReadMessageAsync(requestBody, settings.MaxBufferSize, encoder.ContentType).ConfigureAwait(false);
            var action = request.Headers.Action ?? "";
            if (contract.TryGetUnsupported(action, out var refused))
            {
                log.Info("Session {0}: {1} of {2} was refused at start-up; answering a fault", sessionId, refused!.Name, contract.ContractName);
                metrics.CallNotDispatched(refused.Name);
                await Drain(requestBody).ConfigureAwait(false);
                if (request.Headers.MessageId is null) framing.Tell(FramingSession.NoReply.Instance); // one-way
                else await Reply(SoapReplies.NotSupported(encoder.MessageVersion, refused), request.Headers.MessageId).ConfigureAwait(false);
                return;
            }
            if (!contract.TryGetOperation(action, out var operation))
            {
                log.Info("Session {0}: no operation of {1} has action {2}", sessionId, contract.ContractName, action);
                await Drain(requestBody).ConfigureAwait(false);
                await Reply(SoapFaults.ActionNotSupported(encoder.MessageVersion, action), request.Headers.MessageId).ConfigureAwait(false);
                return;
            }

            object?[] arguments;
            try
            {
                arguments = OperationBody.ReadArguments(request, operation!, streamed: true);
            }
            catch (Exception e) when (e is not IOException)
            {
                // The serializers' failure on this input, not the connection's: the client gets a fault, as when buffered.
                log.Warning("Session {0}: cannot read the arguments of {1} ({2}: {3})", sessionId, operation!.Name, e.GetType().Name, e.Message);
                metrics.CallNotDispatched(operation.Name);
                await Drain(requestBody).ConfigureAwait(false);
                if (operation.IsOneWay) framing.Tell(FramingSession.NoReply.Instance);
                else await Reply(SoapFaults.DeserializationFailed(encoder.MessageVersion, e), request.Headers.MessageId).ConfigureAwait(false);
                return;
            }
            var invoked = new OperationInvoked(operation!.Name, arguments, callback, sessionId) { ClientCertificate = caller?.Certificate, ClientIdentity = caller?.Identity };
            if (operation.IsOneWay)
            {
                metrics.CallStarted(operation.Name, awaitsAnswer: false);
                implementation.Tell(invoked);
                framing.Tell(FramingSession.NoReply.Instance);
                return;
            }

            var startedAt = metrics.CallStarted(operation.Name, awaitsAnswer: true);
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
            // The session's End comes after the request's last byte, so whatever the service left unread goes.
            await Drain(requestBody).ConfigureAwait(false);
            await Reply(SoapReplies.For(encoder.MessageVersion, operation, answer), request.Headers.MessageId).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Bad input or a broken connection, in whatever exception WCF's decoder raises: the connection goes.
            log.Warning("Session {0}: streamed exchange failed ({1}); closing the connection", sessionId, e.Message);
            framing.Tell(new FramingSession.Abort($"streamed exchange failed: {e.Message}"));
        }
    }

    private async Task Reply(Message reply, UniqueId? relatesTo)
    {
        using (reply)
        {
            if (relatesTo is not null) reply.Headers.RelatesTo = relatesTo;
            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: settings.StreamedReplyBuffer,
                resumeWriterThreshold: settings.StreamedReplyBuffer / 2, useSynchronizationContext: false));
            framing.Tell(new FramingSession.SendStream(pipe.Reader.AsStream()));
            await using var output = pipe.Writer.AsStream();
            try
            {
                await encoder.WriteMessageAsync(reply, output).ConfigureAwait(false);
                await pipe.Writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The client must not mistake a cut reply for a whole one.
                await pipe.Writer.CompleteAsync(e).ConfigureAwait(false);
                throw;
            }
        }
    }

    private static Task Drain(Stream requestBody) => requestBody.CopyToAsync(Stream.Null);
}
