namespace AkkaPortShare.Protocol.TransferWindows;

/// <summary>
/// When the receiving end acknowledges (WCF's rules, reference 3.4 and 3.5). Pure bookkeeping: the session owns the
/// AcknowledgementInterval timer and the sending; this only says when.
/// </summary>
/// <remarks>
/// Immediately when the message carried AckRequested, was a duplicate (the sender is evidently retrying, so its ack
/// was lost), made the last number known (the peer is closing and waits on it), or the count of received-but-
/// unacknowledged messages reached <see cref="BatchSize"/> (the sender is about to stall). Otherwise the first
/// unacknowledged arrival schedules one ack an AcknowledgementInterval later, which batches the rest. Every ack sent,
/// standalone or piggybacked, must be reported through <see cref="OnAckSent"/>.
/// </remarks>
public sealed class AcknowledgementPolicy
{
    // What the last ack advertised as BufferRemaining; null before any ack (nothing advertised, so nothing to reopen).
    private int? _lastAdvertised;

    public AcknowledgementPolicy(int windowSize, bool flowControl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSize, 1);
        WindowSize = windowSize;
        BatchSize = windowSize <= SmallWindow ? windowSize : Math.Max(SmallWindow, windowSize / 4);
        FlowControl = flowControl;
    }

    public int WindowSize { get; }

    /// <summary>
    /// Unacknowledged messages that make an ack due at once: the window, as WCF's receiver counts, for windows up to
    /// 16 messages; a quarter of it above. WCF's sender asks for an ack only with the message that fills
    /// its window, so an ack that waits for that request stops the sender for a round trip per window (and, with flow
    /// control, reopens only what the service has taken by then). Acknowledging each quarter lets its window slide
    /// while it sends: at window 512 about four acks per 512 messages, where the sender would otherwise idle.
    /// </summary>
    public int BatchSize { get; }

    /// <summary>Windows up to this size are acknowledged when full (WCF's rule); larger ones by quarters.</summary>
    private const int SmallWindow = 16;

    public bool FlowControl { get; }

    /// <summary>Messages accepted since the last ack went out.</summary>
    public int Unacknowledged { get; private set; }

    public AckAction OnReceived(ReceiveOutcome outcome, bool ackRequested, bool lastNumberBecameKnown)
    {
        switch (outcome)
        {
            case ReceiveOutcome.Invalid:
                // The session faults; an ack would only acknowledge a broken sequence.
                return AckAction.None;

            case ReceiveOutcome.Duplicate:
                return AckAction.SendNow;

            case ReceiveOutcome.BeyondWindow:
                // The message is dropped unrecorded. A requested ack is still answered: it carries the current ranges
                // and (with flow control) BufferRemaining, which is what a stalled sender is polling for.
                return ackRequested ? AckAction.SendNow : AckAction.None;
        }

        Unacknowledged++;
        if (ackRequested || lastNumberBecameKnown || Unacknowledged >= BatchSize)
        {
            return AckAction.SendNow;
        }

        // Only the first unacknowledged arrival starts the timer; later ones ride on it.
        return Unacknowledged == 1 ? AckAction.Schedule : AckAction.None;
    }

    /// <summary>A standalone AckRequested (no message) always gets an immediate ack.</summary>
    public AckAction OnAckRequested() => AckAction.SendNow;

    /// <summary>
    /// The service took a message. With flow control the sender holds back what the last ack's BufferRemaining did
    /// not allow, so growing room is announced without waiting for the next batch: at once when the last ack
    /// advertised a full buffer (0: the sender is stalled until it hears otherwise), and whenever the room has grown
    /// by half the window (above 16, by a <see cref="BatchSize"/>, a quarter) since the last ack. The second rule
    /// matters with WCF's client, which advertises-minus-in-flight twice over (TransmissionStrategy.DequeuePending)
    /// and, when a burst filled the buffer just before its AckRequested was answered, would otherwise wait a whole
    /// extra round trip per window. Above 16, also when the service has taken everything after an ack that advertised
    /// less: WCF's sender sends no more than the BufferRemaining it last heard of, and its AckRequested came with the
    /// last message of a burst, so the answer told of the burst's messages not yet taken (a fifth of the window at
    /// +20 ms in the benchmark's trace), room the sender would otherwise leave unused for a whole round trip.
    /// </summary>
    public AckAction OnTaken(int bufferRemainingAfter) =>
        FlowControl && _lastAdvertised is int advertised && bufferRemainingAfter > advertised
        && (advertised == 0 || bufferRemainingAfter - advertised >= Math.Max(1, Math.Min(WindowSize / 2, BatchSize))
            || WindowSize > SmallWindow && bufferRemainingAfter == WindowSize)
            ? AckAction.SendNow : AckAction.None;

    /// <summary>
    /// An ack went out (standalone or piggybacked): nothing is unacknowledged any more, so a pending timer can be
    /// cancelled; remembers the advertised BufferRemaining (ignored without flow control).
    /// </summary>
    public void OnAckSent(int bufferRemainingAdvertised)
    {
        Unacknowledged = 0;
        _lastAdvertised = FlowControl ? bufferRemainingAdvertised : null;
    }
}
