using System.Buffers;

namespace AkkaPortShare.Protocol.Framing;

/// <summary>
/// Incremental <see cref="MultiByteInt"/> reader that keeps its partial value between calls, so an integer split
/// across two socket reads needs no copying or re-reading. A mutable struct: keep it in a field and never copy it.
/// <c>default</c> is the ready-to-read state.
/// </summary>
internal struct MultiByteIntReader
{
    private int _value;
    private int _bytesRead;

    /// <summary>True once at least one byte of the current integer has been taken.</summary>
    public readonly bool InProgress => _bytesRead > 0;

    /// <summary>
    /// Continues the current integer with bytes from <paramref name="input"/>.
    /// Done: <paramref name="consumed"/> = bytes taken from this input, and the reader is ready for the next integer.
    /// NeedMoreData: the whole input was taken. InvalidData: the offending 5th byte was taken; the reader is spent.
    /// </summary>
    public OperationStatus Read(ReadOnlySpan<byte> input, out int value, out int consumed)
    {
        for (int i = 0; i < input.Length; i++)
        {
            byte b = input[i];

            // The 5th byte may only carry bits 28..30: bit 31 would make the value negative, and a set 0x80 would
            // announce a 6th byte. WCF rejects both with "Specified size is too large".
            if (_bytesRead == MultiByteInt.MaxEncodedSize - 1 && (b & 0xF8) != 0)
            {
                value = 0;
                consumed = i + 1;
                return OperationStatus.InvalidData;
            }

            _value |= (b & 0x7F) << (7 * _bytesRead);
            _bytesRead++;
            if ((b & 0x80) == 0)
            {
                value = _value;
                consumed = i + 1;
                this = default;
                return OperationStatus.Done;
            }
        }

        value = 0;
        consumed = input.Length;
        return OperationStatus.NeedMoreData;
    }
}
