namespace AkkaPortShare.Protocol.TransferWindows;

/// <summary>
/// The receiving end's transfer window (WCF: MaxTransferWindowSize is the receive quota, reference 3.3).
/// </summary>
/// <remarks>
/// <para>The quota counts together the messages accepted but not yet taken by the service (<see cref="Undelivered"/>)
/// and those held out of order (<see cref="OutOfOrder"/>). A message that does not fit is refused as
/// <see cref="ReceiveOutcome.BeyondWindow"/>: dropped and not recorded in <see cref="Received"/>, so it is never acked
/// and the sender's retry timer brings it back once there is room.</para>
/// <para>Ordered mode additionally reserves a slot for every gap below the arriving number (WCF's
/// <c>pending + (n − nextExpected) &lt; quota</c>). Without that reservation held messages could fill the buffer and
/// lock out the next expected message for good; with it the next expected one always fits while
/// <see cref="Undelivered"/> is below the window.</para>
/// <para>A Feb2005 LastMessage (empty body) is passed in like any message and occupies a slot until taken; the caller
/// discards it after taking.</para>
/// </remarks>
public sealed class ReceiveWindow<T>
{
    private readonly Queue<(long Number, T Message)> _takeable = new();

    // Ordered mode only: messages that arrived ahead of a gap, keyed by number, moved to _takeable as the gap fills.
    private readonly Dictionary<long, T> _held = new();

    // Ordered mode only: the lowest number not yet moved to _takeable.
    private long _nextExpected = 1;

    public ReceiveWindow(int windowSize, bool ordered)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSize, 1);
        WindowSize = windowSize;
        Ordered = ordered;
    }

    public int WindowSize { get; }

    public bool Ordered { get; }

    /// <summary>Takeable, not yet taken.</summary>
    public int Undelivered => _takeable.Count;

    /// <summary>Held behind a gap, not yet takeable (always 0 when unordered).</summary>
    public int OutOfOrder => _held.Count;

    /// <summary>What a flow-control ack advertises as BufferRemaining.</summary>
    public int BufferRemaining => Math.Max(0, WindowSize - Undelivered - OutOfOrder);

    /// <summary>Every number accepted so far: the ranges an acknowledgement carries.</summary>
    public SequenceRanges Received { get; } = new();

    /// <summary>Set once the last number is known (a LastMessage arrived, or 1.1's CloseSequence gave it).</summary>
    public long? LastNumber { get; private set; }

    /// <summary>The last number is known and every message 1..Last has been received.</summary>
    public bool IsComplete => LastNumber is long last && Received.ContainsAllThrough(last);

    /// <summary><see cref="IsComplete"/> and the service has taken everything.</summary>
    public bool AllTaken => IsComplete && _takeable.Count == 0 && _held.Count == 0;

    /// <summary>
    /// Offers an arriving sequence message. To learn whether it made the last number known (an immediate-ack
    /// trigger), compare <see cref="LastNumber"/> before and after.
    /// </summary>
    public ReceiveOutcome Receive(long number, T message, bool isLast = false)
    {
        if (!IsValid(number, isLast))
        {
            return ReceiveOutcome.Invalid;
        }

        if (Received.Contains(number))
        {
            return ReceiveOutcome.Duplicate;
        }

        if (!HasRoomFor(number))
        {
            return ReceiveOutcome.BeyondWindow;
        }

        Received.Add(number);
        if (isLast)
        {
            LastNumber = number;
        }

        if (!Ordered)
        {
            _takeable.Enqueue((number, message));
        }
        else if (number == _nextExpected)
        {
            _takeable.Enqueue((number, message));
            _nextExpected++;
            while (_held.Remove(_nextExpected, out T? next))
            {
                _takeable.Enqueue((_nextExpected, next));
                _nextExpected++;
            }
        }
        else
        {
            _held.Add(number, message);
        }

        return ReceiveOutcome.Accepted;
    }

    /// <summary>Hands the service the next takeable message (ordered: strictly the next in sequence).</summary>
    public bool TryTake(out long number, out T message)
    {
        if (_takeable.TryDequeue(out (long Number, T Message) item))
        {
            number = item.Number;
            message = item.Message;
            return true;
        }

        number = 0;
        message = default!;
        return false;
    }

    /// <summary>The message <see cref="TryTake"/> would hand out next, left in place.</summary>
    public bool TryPeek(out long number, out T message)
    {
        if (_takeable.TryPeek(out var item))
        {
            number = item.Number;
            message = item.Message;
            return true;
        }

        number = 0;
        message = default!;
        return false;
    }

    /// <summary>Records the last number without a message (WS-RM 1.1 CloseSequence's LastMsgNumber).</summary>
    /// <exception cref="ArgumentException">It conflicts with what is known (see <see cref="TrySetLastNumber"/>).</exception>
    public void SetLastNumber(long last)
    {
        if (!TrySetLastNumber(last))
        {
            throw new ArgumentException(
                $"Last number {last} conflicts with the sequence (last {LastNumber?.ToString() ?? "unknown"}, highest received {Received.Highest}).",
                nameof(last));
        }
    }

    /// <summary>
    /// Records the last number; false (nothing changes) when it is negative, differs from an already known last
    /// number, or is below a number already received. 0 means the sequence carried no messages.
    /// </summary>
    public bool TrySetLastNumber(long last)
    {
        if (last < 0 || last < Received.Highest)
        {
            return false;
        }

        if (LastNumber is long known)
        {
            return known == last;
        }

        LastNumber = last;
        return true;
    }

    private bool IsValid(long number, bool isLast)
    {
        if (number <= 0)
        {
            return false;
        }

        if (LastNumber is long last)
        {
            // Beyond the end (LastMessageNumberExceeded / SequenceClosed), or a second, different end.
            return number <= last && (!isLast || number == last);
        }

        // A LastMessage below something already received contradicts the sequence; one on a number already received
        // without the flag changes a message after the fact. Both are the peer's error.
        return !isLast || number > Received.Highest;
    }

    private bool HasRoomFor(long number)
    {
        int used = _takeable.Count + _held.Count;
        if (used >= WindowSize)
        {
            return false;
        }

        if (Ordered)
        {
            // Reserve room for every gap below the number (see remarks). number > _nextExpected - 1 here, since all
            // numbers below _nextExpected are already in Received.
            return _takeable.Count + (number - _nextExpected) < WindowSize;
        }

        return Received.Ranges.Count < TransferWindowLimits.MaxSequenceRanges || !Received.WouldStartNewRange(number);
    }
}
