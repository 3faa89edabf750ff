namespace AkkaPortShare.Protocol.TransferWindows;

/// <summary>
/// An inclusive run of message numbers, as one AcknowledgementRange of a SequenceAcknowledgement carries it.
/// </summary>
public readonly record struct SequenceRange(long Lower, long Upper)
{
    /// <summary>How many numbers the range holds (0 for a malformed range whose Upper is below Lower).</summary>
    public long Length => Upper >= Lower ? Upper - Lower + 1 : 0;

    public bool Contains(long number) => number >= Lower && number <= Upper;

    public override string ToString() => Lower == Upper ? $"[{Lower}]" : $"[{Lower}..{Upper}]";
}
