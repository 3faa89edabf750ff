using System.Text;

namespace AkkaPortShare.Protocol.Handover;

/// <summary>
/// The payload of one message on the Unix-domain hand-over channel between router and worker. A message that
/// carries a passed socket holds the bytes already read from it, which the receiver must replay before reading
/// the socket itself. The same frame goes both ways: router to worker (a routed connection) and worker to router
/// (a pooled connection whose next preamble names an address the worker does not own). The first message the
/// router sends on a new channel is a <see cref="ChannelToken"/>: the worker's registrations carry it back over
/// Akka.Remote to prove they come from the process behind this socket.
/// </summary>
internal static class HandoverFrame
{
    /// <summary>A passed connection; the rest of the payload is its already-read bytes.</summary>
    public const byte Connection = 1;

    /// <summary>Router to worker, no socket: the rest of the payload is the channel token (ASCII).</summary>
    public const byte ChannelToken = 2;

    /// <summary>Longest channel token accepted.</summary>
    public const int MaxTokenLength = 256;

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
