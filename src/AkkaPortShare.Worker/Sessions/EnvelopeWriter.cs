using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>How the service's replies and the server's records are queued in an <see cref="Outbox"/>.</summary>
internal static class EnvelopeWriter
{
    /// <summary>Duplex mode: a sized envelope (header and payload, written together with what else is queued).</summary>
    public static void Sized(Outbox outbox, byte[] payload)
    {
        var header = new byte[1 + MultiByteInt.MaxEncodedSize];
        var n = FramingWriter.WriteSizedEnvelopeHeader(header, payload.Length);
        outbox.Add(new ArraySegment<byte>(header, 0, n));
        outbox.Add(new ArraySegment<byte>(payload));
    }

    /// <summary>Streamed (singleton) mode: the reply is one unsized envelope of a single chunk.</summary>
    public static void Unsized(Outbox outbox, byte[] payload)
    {
        var header = new byte[1 + MultiByteInt.MaxEncodedSize];
        header[0] = (byte)FramingRecordType.UnsizedEnvelope;
        var n = 1 + FramingWriter.WriteUnsizedChunkHeader(header.AsSpan(1), payload.Length);
        outbox.Add(new ArraySegment<byte>(header, 0, n));
        if (payload.Length > 0) outbox.Add(new ArraySegment<byte>(payload));
        Record(outbox, FramingWriter.UnsizedEnvelopeEnd);
    }

    /// <summary>A framing record (PreambleAck, End, ...), copied: the writer's spans are shared.</summary>
    public static void Record(Outbox outbox, ReadOnlySpan<byte> record) => outbox.Add(new ArraySegment<byte>(record.ToArray()));
}
