namespace AkkaPortShare.Protocol.TransferWindows;

/// <summary>
/// The sending end's transfer window with WCF's transmission strategy (reference 3.1, 3.2, 3.5).
/// </summary>
/// <remarks>
/// <para>The window holds every message from the first unacknowledged one through the last sent. Messages acked ahead
/// of a gap keep their slot until the gap is acked and the window slides: the receiver's ordered buffer reserves those
/// positions too, so counting them keeps the sender inside it. <see cref="InFlight"/> is that span.</para>
/// <para>A slow-start congestion window starts at 1 and grows by the number of messages each ack slides off, up to
/// MaxWindow; above the threshold it grows by one per congestion window's worth of slid messages. A retry timeout
/// resends ONLY the first unacknowledged message, drops the window to 1, halves the threshold and doubles the RTO;
/// the doubling lasts until that message is acknowledged and the window slides.</para>
/// <para>With flow control the peer's BufferRemaining, minus what is still unacknowledged, is the quota; each new
/// message uses one. No new message while it is ≤ 0.</para>
/// <para>Storage is a ring of MaxWindow slots: the congestion window never exceeds MaxWindow, so neither does the span.</para>
/// </remarks>
public sealed partial class SendWindow<T>
{
    private readonly Entry[] _ring;
    private readonly RoundTripEstimator _rtt;
    private int _head;
    private int _count;
    private long _windowStart = 1;
    private int _unacknowledged;
    private int _congestionWindow = 1;
    private int _avoidanceCredit;
    private bool _quotaKnown;
    private int _quota;
    private long _timerStartTicks;
    private int _ackStamp;

    public SendWindow(int maxWindow, int maxRetryCount, TimeSpan initialRoundTrip, bool flowControl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWindow, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetryCount);
        MaxWindow = maxWindow;
        MaxRetryCount = maxRetryCount;
        FlowControl = flowControl;
        SlowStartThreshold = maxWindow;
        _ring = new Entry[maxWindow];
        _rtt = new RoundTripEstimator(initialRoundTrip);
    }

    public int MaxWindow { get; }

    public int MaxRetryCount { get; }

    public bool FlowControl { get; }

    /// <summary>The number of the newest message added (0 before the first; numbers start at 1).</summary>
    public long LastNumberSent => _windowStart + _count - 1;

    /// <summary>The oldest unacknowledged number while anything is in flight; otherwise LastNumberSent + 1.</summary>
    public long WindowStart => _windowStart;

    /// <summary>Slots in use: first unacknowledged through last sent, including messages acked ahead of a gap.</summary>
    public int InFlight => _count;

    /// <summary>Messages sent and not yet acknowledged (InFlight minus those acked ahead of a gap).</summary>
    public int Unacknowledged => _unacknowledged;

    public int CongestionWindow => _congestionWindow;

    public int SlowStartThreshold { get; private set; }

    /// <summary>Flow-control room left; int.MaxValue without flow control or before the first ack carrying BufferRemaining.</summary>
    public int Quota => FlowControl && _quotaKnown ? _quota : int.MaxValue;

    public bool CanSend => _count < _congestionWindow && Quota > 0;

    /// <summary>The message just added filled the window or used the last of the quota: WCF sets AckRequested on it.</summary>
    public bool AckRequestDue { get; private set; }

    public bool AllAcknowledged => _count == 0;

    public TimeSpan RetransmissionTimeout => TimeSpan.FromTicks(_rtt.TimeoutTicks);

    public TimeSpan SmoothedRoundTrip => TimeSpan.FromTicks(_rtt.SmoothedTicks);

    public TimeSpan RoundTripVariation => TimeSpan.FromTicks(_rtt.VariationTicks);

    /// <summary>When the oldest unacknowledged message must be resent (same clock as the <c>now</c> arguments); null when nothing is in flight.</summary>
    public TimeSpan? NextRetransmissionDue => _count == 0 ? null : TimeSpan.FromTicks(_timerStartTicks + _rtt.TimeoutTicks);

    /// <summary>Takes the next number for <paramref name="message"/>, which the caller then transmits.</summary>
    /// <exception cref="InvalidOperationException"><see cref="CanSend"/> is false.</exception>
    public long Add(T message, TimeSpan now)
    {
        if (!CanSend)
        {
            throw new InvalidOperationException(
                $"No space in the transfer window (in flight {_count}, window {_congestionWindow}, quota {Quota}).");
        }

        if (_count == 0)
        {
            // The retry timer runs for the oldest unacknowledged message; it starts with the first one.
            _timerStartTicks = now.Ticks;
        }

        _ring[(_head + _count) % _ring.Length] = new Entry { Message = message, SentAtTicks = now.Ticks };
        _count++;
        _unacknowledged++;
        if (_quotaKnown)
        {
            _quota--;
        }

        AckRequestDue = _count >= _congestionWindow || (FlowControl && _quotaKnown && _quota <= 0);
        return LastNumberSent;
    }

    /// <summary>
    /// The retry timer fired: resend the first unacknowledged message (only that one), or report that its retries
    /// are exhausted. Call when <see cref="NextRetransmissionDue"/> ≤ <paramref name="now"/>; the timer restarts
    /// from <paramref name="now"/> with the doubled RTO.
    /// </summary>
    /// <exception cref="InvalidOperationException">Nothing is in flight.</exception>
    public RetransmitResult Retransmit(TimeSpan now)
    {
        if (_count == 0)
        {
            throw new InvalidOperationException("Nothing is in flight to retransmit.");
        }

        ref Entry first = ref _ring[_head];
        int attempt = first.Retries + 1;
        if (attempt > MaxRetryCount)
        {
            return new RetransmitResult(Exhausted: true, _windowStart, attempt);
        }

        first.Retries = attempt;

        // Threshold: half of what was outstanding (not of the window, which a previous timeout already cut to 1),
        // but at least 2 so recovery is not stuck in one-message congestion avoidance.
        SlowStartThreshold = Math.Min(MaxWindow, Math.Max(2, Math.Max(_count, _congestionWindow) / 2));
        _congestionWindow = 1;
        _avoidanceCredit = 0;
        _rtt.Backoff();
        _timerStartTicks = now.Ticks;
        return new RetransmitResult(Exhausted: false, _windowStart, attempt);
    }

    /// <summary>
    /// The peer came back on a new connection, so what was in flight probably went down with the old one: returns the
    /// numbers of every unacknowledged message, for the caller to resend now. The retry timer restarts from
    /// <paramref name="now"/> at the estimate (a backoff grown while transmissions went to a dead connection would
    /// otherwise hold the next retry back for tens of seconds). Each message resent counts as retried once at most
    /// (no RTT sample from it, Karn's rule), so reconnections alone do not use up MaxRetryCount.
    /// </summary>
    public IReadOnlyList<long> ResendAfterReconnect(TimeSpan now)
    {
        if (_count == 0)
        {
            return [];
        }

        var numbers = new List<long>(_unacknowledged);
        for (long number = _windowStart; number <= LastNumberSent; number++)
        {
            ref Entry entry = ref At(number);
            if (entry.AckedStamp != 0)
            {
                continue;
            }

            entry.Retries = Math.Max(entry.Retries, 1);
            numbers.Add(number);
        }

        _rtt.EndBackoff();
        _timerStartTicks = now.Ticks;
        return numbers;
    }

    /// <summary>The message with <paramref name="number"/> if it was sent and is not yet acknowledged (for resending).</summary>
    public bool TryGetUnacknowledged(long number, out T message)
    {
        if (number >= _windowStart && number <= LastNumberSent)
        {
            ref Entry entry = ref At(number);
            if (entry.AckedStamp == 0)
            {
                message = entry.Message;
                return true;
            }
        }

        message = default!;
        return false;
    }

    private ref Entry At(long number) => ref _ring[(int)((_head + (number - _windowStart)) % _ring.Length)];

    private struct Entry
    {
        public T Message;

        // Time of the first transmission; an RTT sample is taken from it only while Retries == 0 (Karn's rule).
        public long SentAtTicks;

        public int Retries;

        // The ack pass that first acknowledged it (0 = unacknowledged); tells "newly acked now" from "acked ahead before".
        public int AckedStamp;

        // The last ack pass that covered it, to detect a stale ack that omits something already acknowledged.
        public int SeenStamp;
    }
}
