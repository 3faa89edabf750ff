namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Collects one sized envelope's payload as it arrives in pieces, into an array of exactly its size (checked
/// against max-message-size before this is created). Streamed messages never come here: they go through
/// <see cref="InboundStream"/>.
/// </summary>
internal sealed class MessageAssembly(int size)
{
    private readonly byte[] _bytes = new byte[size];
    private int _length;

    /// <summary>False when the data would overrun the announced size (the decoder never does that).</summary>
    public bool Append(ReadOnlySpan<byte> data)
    {
        if (_length + data.Length > _bytes.Length) return false;
        data.CopyTo(_bytes.AsSpan(_length));
        _length += data.Length;
        return true;
    }

    public byte[] ToArray() => _bytes;
}
