namespace AkkaPortShare.Protocol.TransferWindows;

/// <summary>Whether an acknowledgement was acceptable to the <see cref="SendWindow{T}"/>.</summary>
public enum AckVerdict
{
    Ok,

    /// <summary>It acknowledges a number never sent (or is malformed): answer with an InvalidAcknowledgement fault.</summary>
    Invalid,
}
