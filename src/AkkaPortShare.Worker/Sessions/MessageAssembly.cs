namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Collects one sized envelope's payload as it arrives in pieces, into an array of exactly its size (checked
/// against max-message-size before this is created). Streamed messages never come here: they go through
/// <see cref="InboundStream"/>.
/// </summary>
internal sealed class MessageAssembly(int size)
{
    // Not zeroed: every byte is written before the array is handed out (ToArray refuses an incomplete one), so
    // clearing it first would be a second pass over every received message for nothing.
    private readonly byte[] _bytes = GC.AllocateUninitializedArray<byte>(size);
    private int _length;

    /// <summary>False when the data would overrun the announced size (the decoder never does that).</summary>
    public bool Append(ReadOnlySpan<byte> data)
    {
        if (_length + data.Length > _bytes.Length) return false;
        data.CopyTo(_bytes.AsSpan(_length));
        _length += data.Length;
        return true;
    }

    /// <summary>The payload, once every announced byte has arrived (the decoder reports the end only then).</summary>
    public byte[] ToArray() => _length == _bytes.Length
        ? _bytes
        : throw new InvalidOperationException($"an envelope of {_bytes.Length} bytes ended after {_length}");
}
