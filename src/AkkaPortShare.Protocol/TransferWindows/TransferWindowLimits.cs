namespace AkkaPortShare.Protocol.TransferWindows;

/// <summary>
/// WCF's internal constants that shape the windows (ReliableMessagingConstants, reference section 1). Kept here so the
/// pure window code and its callers agree on them without depending on a settings type.
/// </summary>
public static class TransferWindowLimits
{
    /// <summary>Cap on acknowledgement ranges when delivery is unordered: a message that would open range 129 is refused.</summary>
    public const int MaxSequenceRanges = 128;

    /// <summary>The starting round-trip time when the handshake gave no usable measurement.</summary>
    public static readonly TimeSpan UnknownInitiationTime = TimeSpan.FromSeconds(2);

    /// <summary>The fixed part of the retransmission timeout: RTO = max(this + SRTT, SRTT + 4·RTTVAR).</summary>
    public static readonly TimeSpan MinimumTimeoutMargin = TimeSpan.FromMilliseconds(400);

    /// <summary>
    /// Ceiling for the doubled RTO. WCF sets none, but MaxRetryCount has no upper bound either, so unbounded doubling
    /// would overflow TimeSpan; a day is far beyond any real session's inactivity timeout.
    /// </summary>
    public static readonly TimeSpan MaxRetransmissionTimeout = TimeSpan.FromDays(1);
}
