namespace AkkaPortShare.Protocol.TransferWindows;

/// <summary>
/// Smoothed round-trip time and the retransmission timeout derived from it (reference 3.2):
/// RTO = max(400 ms + SRTT, SRTT + 4·RTTVAR), SRTT gain 1/8, RTTVAR gain 1/4, seeded from the handshake RTT with
/// RTTVAR = RTT/2. Kept in TimeSpan ticks (finer than WCF's 1/128 ms units; the formula is the same).
/// </summary>
internal sealed class RoundTripEstimator
{
    private static readonly long Margin = TransferWindowLimits.MinimumTimeoutMargin.Ticks;
    private static readonly long Ceiling = TransferWindowLimits.MaxRetransmissionTimeout.Ticks;

    public RoundTripEstimator(TimeSpan initialRoundTrip)
    {
        // A negative measurement means the handshake time is unusable; WCF then assumes 2 s.
        long rtt = initialRoundTrip < TimeSpan.Zero ? TransferWindowLimits.UnknownInitiationTime.Ticks : initialRoundTrip.Ticks;
        SmoothedTicks = rtt;
        VariationTicks = rtt / 2;
        TimeoutTicks = Compute();
    }

    public long SmoothedTicks { get; private set; }

    public long VariationTicks { get; private set; }

    public long TimeoutTicks { get; private set; }

    /// <summary>A valid sample (Karn: never from an ack involving a retransmission): recomputes the RTO.</summary>
    public void AddSample(long sampleTicks)
    {
        long sample = Math.Max(0, sampleTicks);
        long error = sample - SmoothedTicks;

        // RTTVAR uses the error against the old SRTT, as Jacobson's estimator does.
        VariationTicks += (Math.Abs(error) - VariationTicks) / 4;
        SmoothedTicks += error / 8;
        TimeoutTicks = Compute();
    }

    /// <summary>
    /// The message being retried was finally acknowledged: its backoff ends and the RTO is the estimate again.
    /// Without this a later message would inherit the doubled timeout and start its own MaxRetryCount series hours
    /// out, instead of each message's retries doubling from the estimate (reference 3.2: "~1 s doubling ≈ 8.5 min").
    /// </summary>
    public void EndBackoff() => TimeoutTicks = Compute();

    /// <summary>A retry timeout: the RTO doubles (bounded only to keep TimeSpan from overflowing).</summary>
    public void Backoff() => TimeoutTicks = TimeoutTicks >= Ceiling / 2 ? Ceiling : TimeoutTicks * 2;

    private long Compute() => Math.Min(Ceiling, Math.Max(Margin + SmoothedTicks, SmoothedTicks + (4 * VariationTicks)));
}
