using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace AkkaPortShare.Protocol.Framing;

/// <summary>Outcome of <see cref="Utf8StringRecordReader.Read"/>.</summary>
internal enum StringRecordStatus
{
    NeedMoreData,
    Done,
    IntegerTooLarge,
    TooLong,
    InvalidUtf8,
}

/// <summary>
/// Incremental reader for the "mbint length + UTF-8 bytes" body shared by the Via, ExtensibleEncoding,
/// UpgradeRequest and Fault records.
/// The length is checked against the caller's quota before any string byte is stored, so a hostile peer cannot
/// make us buffer more than the quota. When the whole string is in one input span it is decoded in place; only a
/// string split across reads is gathered in a buffer rented from <see cref="ArrayPool{T}"/> sized to the announced
/// length. A mutable struct: keep it in a field, never copy it, and call <see cref="Reset"/> to give the buffer back.
/// </summary>
internal struct Utf8StringRecordReader
{
    private MultiByteIntReader _size;
    private bool _haveLength;
    private int _length;
    private int _filled;
    private byte[]? _buffer;

    /// <summary>True once any byte of the current record body has been taken.</summary>
    public readonly bool InProgress => _haveLength || _size.InProgress;

    /// <summary>
    /// Continues the current string with bytes from <paramref name="input"/>. <paramref name="consumed"/> is how
    /// many bytes were taken (all of them on NeedMoreData; none of the string bytes on TooLong). After any result
    /// other than NeedMoreData the reader is back in its initial state.
    /// </summary>
    public StringRecordStatus Read(ReadOnlySpan<byte> input, int maxBytes, out int consumed, out string? value)
    {
        value = null;
        consumed = 0;

        if (!_haveLength)
        {
            var status = _size.Read(input, out int length, out consumed);
            if (status == OperationStatus.NeedMoreData)
            {
                return StringRecordStatus.NeedMoreData;
            }

            if (status != OperationStatus.Done)
            {
                Reset();
                return StringRecordStatus.IntegerTooLarge;
            }

            if (length > maxBytes)
            {
                Reset();
                return StringRecordStatus.TooLong;
            }

            input = input[consumed..];
            if (input.Length >= length)
            {
                // Fast path (the usual case: the client writes its whole preamble at once): no copy at all.
                consumed += length;
                return Finish(input[..length], out value);
            }

            _haveLength = true;
            _length = length;
            _filled = 0;
            _buffer = ArrayPool<byte>.Shared.Rent(length);
        }

        int take = Math.Min(input.Length, _length - _filled);
        input[..take].CopyTo(_buffer.AsSpan(_filled));
        _filled += take;
        consumed += take;
        if (_filled < _length)
        {
            return StringRecordStatus.NeedMoreData;
        }

        var result = Finish(_buffer.AsSpan(0, _length), out value);
        Reset();
        return result;
    }

    /// <summary>Forgets any partial string and returns the rented buffer to the pool.</summary>
    public void Reset()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        this = default;
    }

    private static StringRecordStatus Finish(ReadOnlySpan<byte> bytes, out string? value)
    {
        // Validate first so malformed input never produces a string with U+FFFD replacement characters in it.
        if (!Utf8.IsValid(bytes))
        {
            value = null;
            return StringRecordStatus.InvalidUtf8;
        }

        value = Encoding.UTF8.GetString(bytes);
        return StringRecordStatus.Done;
    }
}
