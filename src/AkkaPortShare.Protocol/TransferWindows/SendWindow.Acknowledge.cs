namespace AkkaPortShare.Protocol.TransferWindows;

public sealed partial class SendWindow<T>
{
    /// <summary>
    /// Applies a SequenceAcknowledgement. Numbers newly acknowledged are appended to
    /// <paramref name="newlyAcknowledged"/> (the caller may release them). Ranges from the window start slide it,
    /// grow the congestion window, give an RTT sample and end any retry backoff; ranges further ahead only mark
    /// messages acknowledged.
    /// </summary>
    /// <returns><see cref="AckVerdict.Invalid"/> (and no change at all) when a range is malformed or names a number never sent.</returns>
    /// <remarks>
    /// A receiver never forgets a number, so an ack that omits one already known to be acknowledged is an old ack
    /// overtaken by a newer one (possible on transports that reorder, e.g. several HTTP connections). Its ranges are
    /// harmless, but its BufferRemaining is out of date and could over-open the quota, so it is ignored. Detection
    /// assumes ascending ranges (as WCF writes them); unsorted ranges are trusted.
    /// </remarks>
    public AckVerdict Acknowledge(IReadOnlyList<SequenceRange> ranges, int? bufferRemaining, TimeSpan now, List<long> newlyAcknowledged)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentNullException.ThrowIfNull(newlyAcknowledged);

        if (!Validate(ranges, out bool ascending, out long coveredFromOne))
        {
            return AckVerdict.Invalid;
        }

        int stamp = NextStamp();
        int ackedAheadBefore = _count - _unacknowledged;
        int ackedAheadSeen = MarkRanges(ranges, stamp, newlyAcknowledged);

        bool stale = ascending && (coveredFromOne < _windowStart - 1 || ackedAheadSeen < ackedAheadBefore);

        int slid = Slide(stamp, out long sampleSentAtTicks);
        if (slid > 0)
        {
            Grow(slid);
            if (sampleSentAtTicks >= 0)
            {
                _rtt.AddSample(now.Ticks - sampleSentAtTicks);
            }
            else
            {
                _rtt.EndBackoff();
            }

            // New oldest unacknowledged message: its timer starts now (as TCP restarts on new data acked).
            _timerStartTicks = now.Ticks;
        }

        if (FlowControl && bufferRemaining is int remaining && !stale)
        {
            _quotaKnown = true;
            _quota = remaining - _unacknowledged;
        }

        return AckVerdict.Ok;
    }

    private bool Validate(IReadOnlyList<SequenceRange> ranges, out bool ascending, out long coveredFromOne)
    {
        long last = LastNumberSent;
        long previousUpper = 0;
        ascending = true;
        coveredFromOne = 0;
        for (int i = 0; i < ranges.Count; i++)
        {
            SequenceRange range = ranges[i];
            if (range.Lower < 1 || range.Upper < range.Lower || range.Upper > last)
            {
                return false;
            }

            ascending &= range.Lower > previousUpper;
            previousUpper = range.Upper;

            // How far 1..x is covered contiguously (adjacent ranges from a peer that does not merge still count).
            if (range.Lower <= coveredFromOne + 1 && range.Upper > coveredFromOne)
            {
                coveredFromOne = range.Upper;
            }
        }

        return true;
    }

    /// <summary>Marks every in-window number the ranges cover; returns how many previously acked-ahead ones they covered.</summary>
    private int MarkRanges(IReadOnlyList<SequenceRange> ranges, int stamp, List<long> newlyAcknowledged)
    {
        int ackedAheadSeen = 0;
        for (int i = 0; i < ranges.Count; i++)
        {
            SequenceRange range = ranges[i];
            for (long number = Math.Max(range.Lower, _windowStart); number <= range.Upper; number++)
            {
                ref Entry entry = ref At(number);
                if (entry.SeenStamp == stamp)
                {
                    continue; // overlapping ranges
                }

                entry.SeenStamp = stamp;
                if (entry.AckedStamp != 0)
                {
                    ackedAheadSeen++;
                    continue;
                }

                entry.AckedStamp = stamp;
                entry.Message = default!; // nothing will resend it; let it go
                _unacknowledged--;
                newlyAcknowledged.Add(number);
            }
        }

        return ackedAheadSeen;
    }

    /// <summary>
    /// Drops acknowledged messages off the front and picks the RTT sample (-1: none). The sample comes from the newest
    /// message this ack both acknowledged and slid off: older ones in a cumulative ack include the receiver's batching
    /// delay, and ones acked earlier (ahead of a gap) were not acknowledged just now. Karn's rule is applied to the
    /// whole ack: if it slides past a retransmitted message there is no sample at all, because such an ack may have
    /// been provoked by the retransmission, and a later message it covers may have waited out the whole RTO (its own
    /// acks lost); sampling that would inflate SRTT, lengthen the RTO and feed back on itself.
    /// </summary>
    private int Slide(int stamp, out long sampleSentAtTicks)
    {
        sampleSentAtTicks = -1;
        bool ambiguous = false;
        int slid = 0;
        while (_count > 0)
        {
            ref Entry entry = ref _ring[_head];
            if (entry.AckedStamp == 0)
            {
                break;
            }

            if (entry.Retries > 0)
            {
                ambiguous = true;
            }
            else if (entry.AckedStamp == stamp)
            {
                sampleSentAtTicks = entry.SentAtTicks;
            }

            entry = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
            _windowStart++;
            slid++;
        }

        if (ambiguous)
        {
            sampleSentAtTicks = -1;
        }

        return slid;
    }

    /// <summary>Slow start below the threshold (+1 per slid message), congestion avoidance above (+1 per window's worth).</summary>
    private void Grow(int slid)
    {
        for (int i = 0; i < slid && _congestionWindow < MaxWindow; i++)
        {
            if (_congestionWindow < SlowStartThreshold)
            {
                _congestionWindow++;
            }
            else if (++_avoidanceCredit >= _congestionWindow)
            {
                _avoidanceCredit = 0;
                _congestionWindow++;
            }
        }
    }

    private int NextStamp()
    {
        // 0 means "never"; skip it when the counter wraps.
        _ackStamp = _ackStamp == int.MaxValue ? 1 : _ackStamp + 1;
        return _ackStamp;
    }
}
