using System.Collections.Immutable;
using System.ServiceModel;
using Akka.Actor;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.Samples.Echo;

/// <summary>
/// <see cref="IReviewService"/> in the actor style, next to the <see cref="ReviewService"/> class: the same callbacks,
/// through <see cref="InvokeCallback"/> to the session (one-way told, request/reply asked, never waited on in the
/// mailbox), and per-session state kept by session id.
/// </summary>
public sealed class ReviewActor : ReceiveActor
{
    private static readonly TimeSpan CallbackTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The client's decision on a document, back in the mailbox to count and answer.</summary>
    private sealed record Decided(string SessionId, IActorRef ReplyTo, object Answer);

    private ImmutableDictionary<string, int> _approved = ImmutableDictionary<string, int>.Empty;

    public ReviewActor()
    {
        Receive<OperationInvoked>(op => op.Operation == nameof(IReviewService.Submit), op =>
        {
            var document = (string)op.Arguments[0]!;
            var sessionId = op.SessionId;
            var replyTo = Sender;
            op.Callback.Tell(new InvokeCallback(nameof(IReviewCallback.Progress), document, 50));
            op.Callback.Ask<OperationResult>(new InvokeCallback(nameof(IReviewCallback.Approve), document), CallbackTimeout)
                .PipeTo(Self,
                    success: result => new Decided(sessionId, replyTo, result.ReturnValue is true ? "approved" : "rejected"),
                    failure: e => new Decided(sessionId, replyTo, Unwrapped(e) is FaultException<ReviewFault> refused
                        ? $"refused: {refused.Detail.Reason} ({refused.Code.SubCode?.Name})"
                        : new OperationFault($"The client did not decide: {e.Message}")));
        });
        Receive<OperationInvoked>(op => op.Operation == "Comment", op =>
        {
            var replyTo = Sender;
            op.Callback.Ask<OperationResult>(new InvokeCallback("Comment", op.Arguments[0]), CallbackTimeout)
                .PipeTo(replyTo, success: result => result, failure: e => new OperationFault($"No comment: {e.Message}"));
        });
        Receive<OperationInvoked>(op => op.Operation == nameof(IReviewService.Approved),
            op => Sender.Tell(new OperationResult(_approved.GetValueOrDefault(op.SessionId))));
        Receive<Decided>(decided =>
        {
            if (decided.Answer is "approved")
                _approved = _approved.SetItem(decided.SessionId, _approved.GetValueOrDefault(decided.SessionId) + 1);
            decided.ReplyTo.Tell(decided.Answer as OperationFault ?? (object)new OperationResult(decided.Answer));
        });
        Receive<SessionStarted>(_ => { });
        Receive<SessionEnded>(ended => _approved = _approved.Remove(ended.SessionId));
    }

    private static Exception Unwrapped(Exception e) => e is AggregateException { InnerException: { } inner } ? inner : e;
}
