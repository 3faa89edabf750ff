using System.Buffers;

namespace AkkaPortShare.Protocol.Framing;

/// <summary>
/// The framing protocol's variable-length integer: little-endian base-128, low 7 bits first, bit 0x80 = "more
/// follows", 1 to 5 bytes, values 0 .. 2^31-1. Over-long (non-minimal) encodings are accepted on read because
/// WCF accepts them; we always write the minimal form.
/// </summary>
internal static class MultiByteInt
{
    public const int MaxEncodedSize = 5;

    /// <summary>Number of bytes <see cref="Write"/> produces for <paramref name="value"/>.</summary>
    public static int EncodedSize(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        return value switch
        {
            < 1 << 7 => 1,
            < 1 << 14 => 2,
            < 1 << 21 => 3,
            < 1 << 28 => 4,
            _ => 5,
        };
    }

    /// <summary>Writes the minimal encoding of <paramref name="value"/>; returns the bytes written.</summary>
    /// <exception cref="ArgumentOutOfRangeException">value is negative (the format cannot carry it).</exception>
    /// <exception cref="ArgumentException">destination is too small.</exception>
    public static int Write(Span<byte> destination, int value)
    {
        int size = EncodedSize(value);
        if (destination.Length < size)
        {
            throw new ArgumentException($"Need {size} bytes to encode {value}.", nameof(destination));
        }

        uint remaining = (uint)value;
        int i = 0;
        while (remaining >= 0x80)
        {
            destination[i++] = (byte)(remaining | 0x80);
            remaining >>= 7;
        }

        destination[i++] = (byte)remaining;
        return i;
    }

    /// <summary>
    /// Reads one integer from the start of <paramref name="source"/>. Stateless: when the input ends inside the
    /// integer it reports <see cref="OperationStatus.NeedMoreData"/> with <paramref name="consumed"/> = 0, so the
    /// caller retries with more bytes. Incremental decoders use <see cref="MultiByteIntReader"/> instead.
    /// </summary>
    /// <returns>
    /// Done; NeedMoreData (consumed = 0); InvalidData when the 5th byte has any bit of 0xF8 set, i.e. the value
    /// would exceed 2^31-1 or the integer would need a 6th byte (consumed = 0).
    /// </returns>
    public static OperationStatus TryRead(ReadOnlySpan<byte> source, out int value, out int consumed)
    {
        var reader = default(MultiByteIntReader);
        var status = reader.Read(source, out value, out consumed);
        if (status != OperationStatus.Done)
        {
            value = 0;
            consumed = 0;
        }

        return status;
    }
}
