namespace AkkaPortShare.Protocol.TransferWindows;

/// <summary>What the receiving session should do about acknowledging after an event.</summary>
public enum AckAction
{
    /// <summary>Nothing new: either no ack is owed or a scheduled one is already pending.</summary>
    None,

    /// <summary>Start the AcknowledgementInterval timer (the first unacknowledged message just arrived).</summary>
    Schedule,

    /// <summary>Send a standalone acknowledgement now (and cancel any scheduled one).</summary>
    SendNow,
}
