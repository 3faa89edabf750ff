using System.Text;

namespace AkkaPortShare.Protocol.Handover;

/// <summary>
/// The payload of one message on the Unix-domain hand-over channel between router and worker. A message that
/// carries a passed socket holds the bytes already read from it, which the receiver must replay before reading
/// the socket itself. The same frame goes both ways: router to worker (a routed connection) and worker to router
/// (a pooled connection whose next preamble names an address the worker does not own). The first message the
/// router sends on a new channel is a <see cref="ChannelToken"/>: the worker's registrations carry it back over
/// Akka.Remote to prove they come from the process behind this socket. A reliable session's connection that reached
/// a worker which does not hold the session goes back as a <see cref="SessionMove"/> and on to its holder as a
/// <see cref="ResumedConnection"/>.
/// </summary>
internal static class HandoverFrame
{
    /// <summary>A passed connection; the rest of the payload is its already-read bytes.</summary>
    public const byte Connection = 1;

    /// <summary>Router to worker, no socket: the rest of the payload is the channel token (ASCII).</summary>
    public const byte ChannelToken = 2;

    /// <summary>
    /// Router to worker: a passed connection whose client already has its PreambleAck (another worker of the address
    /// sent it, then found the session is this worker's). The rest is the bytes from the preamble's start; the
    /// session must not be moved again.
    /// </summary>
    public const byte ResumedConnection = 3;

    /// <summary>
    /// Worker to router: this connection's reliable session is held by the worker whose <see cref="SessionRouteKey"/>
    /// follows (8 bytes); the rest is the bytes from the preamble's start (nothing was written but the PreambleAck).
    /// </summary>
    public const byte SessionMove = 4;

    private const int RouteKeyLength = sizeof(ulong);

    /// <summary>Longest channel token accepted.</summary>
    public const int MaxTokenLength = 256;

    public static int Write(Span<byte> destination, ReadOnlySpan<byte> alreadyRead, bool resumed = false)
    {
        destination[0] = resumed ? ResumedConnection : Connection;
        alreadyRead.CopyTo(destination[1..]);
        return alreadyRead.Length + 1;
    }

    /// <summary>A passed connection (worker to router: only <see cref="Connection"/>).</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> alreadyRead) =>
        TryRead(payload, out alreadyRead, out var resumed) && !resumed;

    /// <summary>Router to worker: a passed connection, <paramref name="resumed"/> when its preamble was acknowledged.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> alreadyRead, out bool resumed)
    {
        alreadyRead = default;
        resumed = false;
        if (payload.Length < 1 || payload[0] is not (Connection or ResumedConnection)) return false;
        resumed = payload[0] == ResumedConnection;
        alreadyRead = payload[1..];
        return true;
    }

    /// <summary>Most bytes from the preamble's start a <see cref="SessionMove"/> can carry in one message of <paramref name="maxMessage"/>.</summary>
    public static int MaxMovedBytes(int maxMessage) => maxMessage - 1 - RouteKeyLength;

    public static int WriteSessionMove(Span<byte> destination, SessionRouteKey holder, ReadOnlySpan<byte> fromPreambleStart)
    {
        destination[0] = SessionMove;
        holder.WriteTo(destination.Slice(1, RouteKeyLength));
        fromPreambleStart.CopyTo(destination[(1 + RouteKeyLength)..]);
        return 1 + RouteKeyLength + fromPreambleStart.Length;
    }

    public static bool TryReadSessionMove(ReadOnlySpan<byte> payload, out SessionRouteKey holder, out ReadOnlySpan<byte> fromPreambleStart)
    {
        holder = default;
        fromPreambleStart = default;
        if (payload.Length < 1 + RouteKeyLength || payload[0] != SessionMove) return false;
        holder = SessionRouteKey.ReadFrom(payload.Slice(1, RouteKeyLength));
        fromPreambleStart = payload[(1 + RouteKeyLength)..];
        return true;
    }

    public static byte[] WriteToken(string token)
    {
        if (token.Length is 0 or > MaxTokenLength || !Ascii.IsValid(token))
            throw new ArgumentException($"A channel token is 1 to {MaxTokenLength} ASCII characters.", nameof(token));
        var frame = new byte[token.Length + 1];
        frame[0] = ChannelToken;
        Encoding.ASCII.GetBytes(token, frame.AsSpan(1));
        return frame;
    }

    public static bool TryReadToken(ReadOnlySpan<byte> payload, out string? token)
    {
        token = null;
        if (payload.Length < 2 || payload.Length > MaxTokenLength + 1 || payload[0] != ChannelToken || !Ascii.IsValid(payload[1..]))
            return false;
        token = Encoding.ASCII.GetString(payload[1..]);
        return true;
    }
}
