namespace AkkaPortShare.Protocol.TransferWindows;

/// <summary>What a <see cref="ReceiveWindow{T}"/> did with an arriving sequence message.</summary>
public enum ReceiveOutcome
{
    /// <summary>Buffered (takeable now or once the gap before it fills) and recorded in the ack ranges.</summary>
    Accepted,

    /// <summary>Already received: dropped, and the peer is owed an immediate acknowledgement.</summary>
    Duplicate,

    /// <summary>No room: dropped silently and NOT recorded, so it is never acknowledged and the sender resends it.</summary>
    BeyondWindow,

    /// <summary>A protocol violation (number ≤ 0, beyond the known last one, or a conflicting last number): fault the sequence.</summary>
    Invalid,
}
