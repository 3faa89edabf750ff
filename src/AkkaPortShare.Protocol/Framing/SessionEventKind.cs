namespace AkkaPortShare.Protocol.Framing;

/// <summary>What <see cref="SessionDecoder.Decode"/> found.</summary>
public enum SessionEventKind
{
    /// <summary>Input used up without completing an event; any partial header bytes were kept internally.</summary>
    NeedMoreData,
    /// <summary>An envelope begins; <see cref="SessionEvent.Size"/> = payload size, or -1 for unsized.</summary>
    EnvelopeStart,
    /// <summary>Payload bytes at <see cref="SessionEvent.DataOffset"/>/<see cref="SessionEvent.DataLength"/> in the input.</summary>
    EnvelopeData,
    /// <summary>The envelope is complete; <see cref="SessionEvent.Size"/> = total payload bytes.</summary>
    EnvelopeEnd,
    /// <summary>End record: the peer closed its side of the session.</summary>
    End,
    /// <summary>Fault record; <see cref="SessionEvent.FaultUri"/> holds the fault string.</summary>
    Fault,
    /// <summary>A new preamble (Version record) starts after End; nothing was consumed.</summary>
    PreambleStart,
    /// <summary>Protocol violation; the decoder stays in this state.</summary>
    Invalid,
}
