namespace AkkaPortShare.Protocol.TransferWindows;

/// <summary>
/// The outcome of a retransmission timeout. <paramref name="Number"/> is the message to resend (the first
/// unacknowledged one); <paramref name="Attempt"/> is which retry this is (1 = first resend). When
/// <paramref name="Exhausted"/> is set nothing may be sent: the retry would exceed MaxRetryCount, so the session
/// faults (SequenceTerminated to the peer) and <paramref name="Attempt"/> is the refused retry, MaxRetryCount + 1.
/// </summary>
public readonly record struct RetransmitResult(bool Exhausted, long Number, int Attempt);
