namespace AkkaPortShare.Handover;

/// <summary>
/// The payload of one message on the Unix-domain hand-over channel between router and worker. A message that
/// carries a passed socket holds the bytes already read from it, which the receiver must replay before reading
/// the socket itself. The same frame goes both ways: router to worker (a routed connection) and worker to router
/// (a pooled connection whose next preamble names an address the worker does not own).
/// </summary>
public static class HandoverFrame
{
    /// <summary>A passed connection; the rest of the payload is its already-read bytes.</summary>
    public const byte Connection = 1;

    public static int Write(Span<byte> destination, ReadOnlySpan<byte> alreadyRead)
    {
        destination[0] = Connection;
        alreadyRead.CopyTo(destination[1..]);
        return alreadyRead.Length + 1;
    }

    public static bool TryRead(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> alreadyRead)
    {
        alreadyRead = default;
        if (payload.Length < 1 || payload[0] != Connection) return false;
        alreadyRead = payload[1..];
        return true;
    }
}
