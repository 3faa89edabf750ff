using System.Diagnostics;
using Akka.Actor;
using AkkaPortShare.Protocol.TransferWindows;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Diagnostics;

/// <summary>
/// What one endpoint (a contract at a base address) records, with its attributes: <c>akkaportshare.base_address</c>
/// (as registered: a via is the client's to choose), <c>rpc.service</c> (the contract) and, for calls,
/// <c>rpc.method</c> (the operation; only operations of the contract, so the set is bounded). The tags live in a
/// <see cref="TagList"/> on the stack: recording allocates nothing.
/// </summary>
internal sealed class EndpointMetrics(ServiceModelMetrics metrics, string baseAddress, string contractName)
{
    private readonly KeyValuePair<string, object?> _baseAddress = new("akkaportshare.base_address", baseAddress);
    private readonly KeyValuePair<string, object?> _service = new("rpc.service", contractName);

    private TagList Endpoint() => new() { _baseAddress, _service };

    private TagList Call(string operation) => new() { _baseAddress, _service, { "rpc.method", operation } };

    /// <summary>A call dispatched; request/reply ones are outstanding until <see cref="CallAnswered"/>. Returns its start.</summary>
    public long CallStarted(string operation, bool awaitsAnswer)
    {
        var tags = Call(operation);
        metrics.CallsStarted.Add(1, tags);
        if (awaitsAnswer) metrics.CallsOutstanding.Add(1, tags);
        return Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// The implementation's answer to a request/reply call (or the exception instead of one): its duration, and
    /// faulted for an OperationFault, failed for anything but an OperationResult.
    /// </summary>
    public void CallAnswered(string operation, long startedAt, object answer)
    {
        var tags = Call(operation);
        metrics.CallsOutstanding.Add(-1, tags);
        metrics.CallDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, tags);
        switch (answer)
        {
            case OperationResult:
                return;
            case OperationFault:
                metrics.CallsFaulted.Add(1, tags);
                return;
            case AskTimeoutException:
                tags.Add("error.type", "timeout");
                break;
            case Exception e:
                tags.Add("error.type", e.GetType().FullName);
                break;
            case Status.Failure { Cause: { } cause }: // the implementation failed the call (Ask of object hands it over as is)
                tags.Add("error.type", cause.GetType().FullName);
                break;
            default:
                tags.Add("error.type", "invalid_answer");
                break;
        }
        metrics.CallsFailed.Add(1, tags);
    }

    /// <summary>A call that failed before the implementation saw it: its arguments could not be read.</summary>
    public void CallNotDispatched(string operation)
    {
        var tags = Call(operation);
        metrics.CallsStarted.Add(1, tags);
        tags.Add("error.type", "deserialization");
        metrics.CallsFailed.Add(1, tags);
    }

    public void SessionStarted(bool reliable)
    {
        var tags = Session(reliable);
        metrics.SessionsStarted.Add(1, tags);
        metrics.SessionsActive.Add(1, tags);
    }

    public void SessionsEnded(bool reliable, int count = 1)
    {
        if (count > 0) metrics.SessionsActive.Add(-count, Session(reliable));
    }

    private TagList Session(bool reliable)
    {
        var tags = Endpoint();
        tags.Add("akkaportshare.session.kind", reliable ? "reliable" : "framing");
        return tags;
    }

    /// <summary>A reliable session ended by a fault; <paramref name="errorType"/> is the WS-RM fault's name.</summary>
    public void ReliableSessionFaulted(string errorType)
    {
        var tags = Endpoint();
        tags.Add("error.type", errorType);
        metrics.ReliableSessionsFaulted.Add(1, tags);
    }

    public void ReliableMessageDropped(ReceiveOutcome outcome) =>
        ReliableMessageDropped(outcome == ReceiveOutcome.Duplicate ? "duplicate" : "beyond_window");

    /// <summary>An incoming reliable message not taken: duplicate, beyond_window (no room) or sequence_closed.</summary>
    public void ReliableMessageDropped(string reason)
    {
        var tags = Endpoint();
        tags.Add("akkaportshare.reliable.drop_reason", reason);
        metrics.ReliableMessagesDropped.Add(1, tags);
    }
}
