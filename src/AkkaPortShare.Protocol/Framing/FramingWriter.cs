using System.Text;

namespace AkkaPortShare.Protocol.Framing;

/// <summary>
/// Writers for framing records, for both the server side (acks, faults, envelope headers) and the client side
/// (preambles, used by tests and probes). Span writers return the bytes written and throw
/// <see cref="ArgumentException"/> when the destination is too small; the fixed one-byte records are static
/// spans over constant data, so sending them allocates nothing.
/// </summary>
public static class FramingWriter
{
    /// <summary>Largest header <see cref="WriteSizedEnvelopeHeader"/> writes: type byte + 5-byte mbint.</summary>
    public const int MaxSizedEnvelopeHeaderSize = 1 + MultiByteInt.MaxEncodedSize;

    public static ReadOnlySpan<byte> PreambleAck => new byte[] { (byte)FramingRecordType.PreambleAck };

    public static ReadOnlySpan<byte> End => new byte[] { (byte)FramingRecordType.End };

    public static ReadOnlySpan<byte> PreambleEnd => new byte[] { (byte)FramingRecordType.PreambleEnd };

    public static ReadOnlySpan<byte> UpgradeResponse => new byte[] { (byte)FramingRecordType.UpgradeResponse };

    /// <summary>Type byte that opens an unsized envelope (Singleton mode); chunks follow.</summary>
    public static ReadOnlySpan<byte> UnsizedEnvelopeStart => new byte[] { (byte)FramingRecordType.UnsizedEnvelope };

    /// <summary>The zero-size chunk that ends an unsized envelope.</summary>
    public static ReadOnlySpan<byte> UnsizedEnvelopeEnd => new byte[] { 0x00 };

    /// <summary>Size of the Fault record for <paramref name="faultUri"/>.</summary>
    public static int FaultSize(string faultUri) => StringRecordSize(faultUri);

    /// <summary>Writes <c>08 mbint(len) utf8(faultUri)</c>.</summary>
    public static int WriteFault(Span<byte> destination, string faultUri) =>
        WriteStringRecord(destination, FramingRecordType.Fault, faultUri);

    /// <summary>Allocating convenience for the rare fault path.</summary>
    public static byte[] Fault(string faultUri)
    {
        var bytes = new byte[FaultSize(faultUri)];
        WriteFault(bytes, faultUri);
        return bytes;
    }

    /// <summary>Size of the UpgradeRequest record for <paramref name="upgradeName"/> (client side).</summary>
    public static int UpgradeRequestSize(string upgradeName) => StringRecordSize(upgradeName);

    /// <summary>Writes <c>09 mbint(len) utf8(upgradeName)</c> (client side, e.g. "application/ssl-tls").</summary>
    public static int WriteUpgradeRequest(Span<byte> destination, string upgradeName) =>
        WriteStringRecord(destination, FramingRecordType.UpgradeRequest, upgradeName);

    /// <summary>Header size for a sized envelope carrying <paramref name="payloadSize"/> bytes.</summary>
    public static int SizedEnvelopeHeaderSize(int payloadSize) => 1 + MultiByteInt.EncodedSize(payloadSize);

    /// <summary>Writes <c>06 mbint(payloadSize)</c>; the payload follows. A destination of 6 bytes always suffices.</summary>
    public static int WriteSizedEnvelopeHeader(Span<byte> destination, int payloadSize)
    {
        int size = SizedEnvelopeHeaderSize(payloadSize);
        EnsureRoom(destination, size);
        destination[0] = (byte)FramingRecordType.SizedEnvelope;
        return 1 + MultiByteInt.Write(destination[1..], payloadSize);
    }

    /// <summary>Writes the mbint size of one unsized-envelope chunk (0 writes the terminator).</summary>
    public static int WriteUnsizedChunkHeader(Span<byte> destination, int chunkSize) =>
        MultiByteInt.Write(destination, chunkSize);

    /// <summary>
    /// A client preamble: Version 1.0, Mode, Via (UTF-8, as given: WCF sends Uri.AbsoluteUri), then KnownEncoding
    /// when <paramref name="contentType"/> is in the known table, else ExtensibleEncoding, then PreambleEnd when
    /// <paramref name="includePreambleEnd"/> is set and the mode has one (Duplex/Singleton; Simplex and
    /// SingletonSized never send PreambleEnd, so the flag is ignored for them). Pass false to send
    /// UpgradeRequest records before PreambleEnd.
    /// </summary>
    public static byte[] Preamble(
        FramingMode mode,
        string via,
        string contentType = KnownEncodings.BinarySessionContentType,
        bool includePreambleEnd = true)
    {
        if (mode is < FramingMode.Singleton or > FramingMode.SingletonSized)
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Undefined framing mode.");
        }

        ArgumentNullException.ThrowIfNull(via);
        ArgumentNullException.ThrowIfNull(contentType);

        bool known = KnownEncodings.TryGetId(contentType, out byte encodingId);
        bool withEnd = includePreambleEnd && (mode is FramingMode.Duplex or FramingMode.Singleton);
        int size = 3 + 2 + StringRecordSize(via) + (known ? 2 : StringRecordSize(contentType)) + (withEnd ? 1 : 0);

        var bytes = new byte[size];
        Span<byte> span = bytes;
        span[0] = (byte)FramingRecordType.Version;
        span[1] = 1;
        span[2] = 0;
        span[3] = (byte)FramingRecordType.Mode;
        span[4] = (byte)mode;
        int pos = 5;
        pos += WriteStringRecord(span[pos..], FramingRecordType.Via, via);
        if (known)
        {
            span[pos++] = (byte)FramingRecordType.KnownEncoding;
            span[pos++] = encodingId;
        }
        else
        {
            pos += WriteStringRecord(span[pos..], FramingRecordType.ExtensibleEncoding, contentType);
        }

        if (withEnd)
        {
            span[pos++] = (byte)FramingRecordType.PreambleEnd;
        }

        return bytes;
    }

    private static int StringRecordSize(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int length = Encoding.UTF8.GetByteCount(value);
        return 1 + MultiByteInt.EncodedSize(length) + length;
    }

    private static int WriteStringRecord(Span<byte> destination, FramingRecordType type, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int length = Encoding.UTF8.GetByteCount(value);
        EnsureRoom(destination, 1 + MultiByteInt.EncodedSize(length) + length);
        destination[0] = (byte)type;
        int pos = 1 + MultiByteInt.Write(destination[1..], length);
        pos += Encoding.UTF8.GetBytes(value, destination[pos..]);
        return pos;
    }

    private static void EnsureRoom(Span<byte> destination, int needed)
    {
        if (destination.Length < needed)
        {
            throw new ArgumentException($"Destination needs at least {needed} bytes.", nameof(destination));
        }
    }
}
