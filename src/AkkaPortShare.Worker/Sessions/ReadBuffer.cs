using System.Buffers;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// A connection's read buffer (pooled): bytes read from the socket but not yet decoded, and where the preamble being
/// read began, since a pooled connection's next preamble may have to be handed back to the router whole. One socket
/// read at a time may be lent the free space; the array goes back to the pool only when no read holds it.
/// </summary>
internal sealed class ReadBuffer
{
    private readonly byte[] _bytes;
    private int _offset;        // first byte not yet decoded
    private int _filled;        // end of the bytes read
    private int _preambleStart; // where the current preamble began

    public ReadBuffer(int size, byte[] alreadyRead)
    {
        _bytes = ArrayPool<byte>.Shared.Rent(Math.Max(size, alreadyRead.Length));
        alreadyRead.CopyTo(_bytes, 0);
        _filled = alreadyRead.Length;
    }

    public ReadOnlySpan<byte> Unread => _bytes.AsSpan(_offset, _filled - _offset);
    public bool HasUnread => _filled > _offset;
    public bool IsFull => _filled == _bytes.Length;

    /// <summary>A socket read is filling the free space: the array must not go back to the pool yet.</summary>
    public bool Lent { get; private set; }

    /// <summary>The bytes from where the current preamble began to the end of what was read.</summary>
    public ReadOnlySpan<byte> FromPreambleStart => _bytes.AsSpan(_preambleStart, _filled - _preambleStart);

    public void Consume(int count) => _offset += count;

    public void MarkPreambleStart() => _preambleStart = _offset;

    public Memory<byte> Lend()
    {
        Lent = true;
        return _bytes.AsMemory(_filled);
    }

    /// <summary>The lent read completed with <paramref name="count"/> bytes (0: end of stream, or it failed).</summary>
    public void Returned(int count)
    {
        Lent = false;
        _filled += count;
    }

    /// <summary>
    /// Moves the undecoded tail (and a preamble being read, when it may be handed back) to the front. Not while a read
    /// holds the buffer: it writes after the old end, so moving the tail under it would splice its bytes in wrongly.
    /// </summary>
    public void Compact(bool keepPreamble)
    {
        var keepFrom = keepPreamble ? Math.Min(_preambleStart, _offset) : _offset;
        if (keepFrom == 0 || Lent) return;
        _bytes.AsSpan(keepFrom, _filled - keepFrom).CopyTo(_bytes);
        _filled -= keepFrom;
        _offset -= keepFrom;
        _preambleStart = Math.Max(0, _preambleStart - keepFrom);
    }

    /// <summary>Back to the pool, unless a read still holds it (then the garbage collector takes it).</summary>
    public void Release()
    {
        if (!Lent) ArrayPool<byte>.Shared.Return(_bytes);
    }
}
