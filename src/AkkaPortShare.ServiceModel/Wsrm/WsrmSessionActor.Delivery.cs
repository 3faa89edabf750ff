using System.Collections.Immutable;
using System.ServiceModel.Channels;
using Akka.Actor;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>
/// How the client's messages reach the contract: calls one at a time, in the sequence's order, and the client's
/// answers to request/reply callbacks as soon as the sequence delivers them, even while a call is in progress.
/// </summary>
/// <remarks>
/// A call that makes a request/reply callback waits for the client's answer, which comes as a later message of the
/// client's sequence. WCF's service takes such an answer from its reliable channel as it takes any message: in
/// sequence order when the session is ordered (an answer behind a gap waits for the gap), as it arrives when it is
/// not, and hands it to the waiting callback rather than to the dispatcher. So while a call is in progress and a
/// callback waits, this session goes on asking the sequence for messages: an answer goes to its caller at once, and
/// a call taken meanwhile is dispatched too, as WCF's channel handler goes on pumping a session whose service is
/// not ConcurrencyMode.Single (a Reentrant instance takes the call its caller's callback makes; a Single instance
/// refuses request/reply callbacks, so it never waits here). A call taken while no callback waits is held, to be
/// dispatched in its turn once the calls before it are answered. Calls in progress and held are bounded by the
/// transfer window (a client that sends that many calls ahead of its answer waits, as it
/// waits for a full window; the callback's own timeout ends that). Every message keeps its number and is
/// acknowledged as the sequence takes it.
/// </remarks>
internal sealed partial class WsrmSessionActor
{
    /// <param name="InFlight">Calls dispatched and not answered yet (more than one only while callbacks wait).</param>
    /// <param name="Asked">A RequestNext is outstanding: the sequence delivers one message for it.</param>
    /// <param name="Held">Calls taken while a callback's answer was looked for, oldest first.</param>
    /// <param name="InputCompleted">The client's sequence completed while calls were still to answer.</param>
    private sealed record DeliveryState(int InFlight, bool Asked, ImmutableList<Message> Held, bool InputCompleted)
    {
        public static readonly DeliveryState Idle = new(InFlight: 0, Asked: false, Held: [], InputCompleted: false);
    }

    private void OnDeliver(Deliver deliver)
    {
        _state = _state with { Delivery = _state.Delivery with { Asked = false } };
        // The message the session received (unread; see OnReceived), or a buffer of it.
        var message = deliver.Payload as Message ?? ((MessageBuffer)deliver.Payload).CreateMessage();
        if (_callbacks.TryAnswer(message))
        {
            message.Close();
            AskWhenDue();
            return;
        }
        var delivery = _state.Delivery;
        if (delivery.InFlight > 0 && !(_callbacks.HasPending && delivery.Held.IsEmpty))
        {
            _state = _state with { Delivery = _state.Delivery with { Held = _state.Delivery.Held.Add(message) } };
            AskWhenDue();
            return;
        }
        Dispatch(message);
    }

    /// <param name="message">The call, as delivered; disposed here.</param>
    private void Dispatch(Message message)
    {
        _state = _state with { Delivery = _state.Delivery with { InFlight = _state.Delivery.InFlight + 1 } };
        Task<Message?> call;
        var terminating = false;
        // The dispatcher reads the request before its first await, so it may be disposed on return.
        using (message)
        {
            // WCF's session rules (Dispatch.SessionRules): after a terminating operation, calls get its fault.
            if (!_rules.Admit(message, out terminating, out var refusal))
            {
                Self.Tell(new ReplyReady(refusal));
                AskWhenDue();
                return;
            }
            call = _dispatcher.DispatchAsync(message, Self);
        }
        if (call.IsCompletedSuccessfully && _state.Delivery.Held.IsEmpty)
        {
            // A one-way call is done once the implementation has it (a Tell): taken here rather than through the
            // mailbox, so the next message is asked for at once instead of one more hop per message later. With
            // calls held, the answer goes through the mailbox, so that dispatching them never nests.
            OnReplyReady(new ReplyReady(call.Result, terminating));
            return;
        }
        // The dispatcher answers every failure with a fault of its own; should it throw all the same, the
        // call still counts as done, or the session would take nothing more.
        call.PipeTo(Self, success: reply => new ReplyReady(reply, terminating), failure: _ => new ReplyReady(null, terminating));
        AskWhenDue();
    }

    /// <summary>A call in progress is answered (its reply is on its way): once none is, the next held one or message.</summary>
    private void OnCallDone()
    {
        var delivery = _state.Delivery with { InFlight = Math.Max(0, _state.Delivery.InFlight - 1) };
        _state = _state with { Delivery = delivery };
        if (delivery.InFlight > 0)
        {
            AskWhenDue();
            return;
        }
        if (!delivery.Held.IsEmpty)
        {
            _state = _state with { Delivery = delivery with { Held = delivery.Held.RemoveAt(0) } };
            Dispatch(delivery.Held[0]);
            return;
        }
        if (delivery.InputCompleted)
        {
            _state = _state with { Delivery = delivery with { InputCompleted = false } };
            OnInputCompleted();
            return;
        }
        AskWhenDue();
    }

    /// <summary>
    /// One message at a time: asked for when nothing is in progress (the receive window is what buffers a busy
    /// service, and BufferRemaining tells the client to slow down), and while a call waits on a callback, for its answer.
    /// </summary>
    private void AskWhenDue()
    {
        var delivery = _state.Delivery;
        if (delivery.Asked || !_state.Accepted) return;
        var due = delivery.InFlight > 0
            ? _callbacks.HasPending && delivery.InFlight + delivery.Held.Count < _settings.MaxTransferWindowSize
            : delivery.Held.IsEmpty;
        if (!due) return;
        _state = _state with { Delivery = delivery with { Asked = true } };
        _core.Tell(RequestNext.Instance);
    }
}
