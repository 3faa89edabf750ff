namespace AkkaPortShare.Protocol.Framing;

/// <summary>
/// One result of <see cref="SessionDecoder.Decode"/>. A value type so the per-message hot path allocates nothing;
/// payload bytes are described by offsets into the caller's input instead of being copied.
/// </summary>
public readonly record struct SessionEvent(
    SessionEventKind Kind,
    int Size = 0,
    int DataOffset = 0,
    int DataLength = 0,
    string? FaultUri = null);
