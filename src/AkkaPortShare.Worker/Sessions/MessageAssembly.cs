namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Collects one message's payload as its envelope arrives in pieces. A sized envelope gets its exact array up
/// front; an unsized (streamed) one grows, bounded by max-message-size.
/// </summary>
internal sealed class MessageAssembly(int size)
{
    private byte[] _bytes = size >= 0 ? new byte[size] : new byte[4096];
    private int _length;

    public bool Append(ReadOnlySpan<byte> data, int maxSize)
    {
        if (_length + data.Length > maxSize) return false;
        if (_length + data.Length > _bytes.Length)
        {
            if (size >= 0) return false;
            Array.Resize(ref _bytes, Math.Min(maxSize, Math.Max(_bytes.Length * 2, _length + data.Length)));
        }
        data.CopyTo(_bytes.AsSpan(_length));
        _length += data.Length;
        return true;
    }

    public byte[] ToArray() => _length == _bytes.Length ? _bytes : _bytes[.._length];
}
