using System.Buffers;
using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// What a connection still has to write, in order: framing records and envelopes (coalesced into one write),
/// and streamed replies (copied as one unsized envelope, chunk by chunk, never held whole). One write runs at
/// a time; the owner calls <see cref="StartNext"/> again when it completes. <see cref="UnsentBytes"/> is what the
/// owner weighs to stop reading (back-pressure): bytes queued or being written, a reply stream counted as the
/// one chunk it holds in memory at a time.
/// </summary>
internal sealed class Outbox
{
    private const int ChunkSize = 64 * 1024;
    private readonly Queue<object> _items = new(); // ArraySegment<byte> or Stream

    private long _writing; // the bytes of the write in flight

    public bool IsWriting { get; private set; }
    public bool IsIdle => !IsWriting && _items.Count == 0;
    public long UnsentBytes { get; private set; }

    public void Add(ArraySegment<byte> bytes)
    {
        _items.Enqueue(bytes);
        UnsentBytes += bytes.Count;
    }

    public void Add(Stream replyBody)
    {
        _items.Enqueue(replyBody);
        UnsentBytes += ChunkSize;
    }

    /// <summary>Starts the next write if none runs; null when there is nothing to write.</summary>
    public Task<int>? StartNext(ConnectionIo io)
    {
        if (IsWriting || _items.Count == 0) return null;
        IsWriting = true;
        if (_items.Peek() is Stream body)
        {
            _items.Dequeue();
            _writing = ChunkSize;
            return CopyAsUnsizedEnvelope(io, body);
        }
        var batch = new List<ArraySegment<byte>>();
        _writing = 0;
        while (_items.Count > 0 && _items.Peek() is ArraySegment<byte> bytes)
        {
            batch.Add((ArraySegment<byte>)_items.Dequeue());
            _writing += bytes.Count;
        }
        return io.Send(batch);
    }

    public void Completed()
    {
        IsWriting = false;
        UnsentBytes -= _writing;
        _writing = 0;
    }

    /// <summary>Disposes reply streams that will never be written (the connection is closing).</summary>
    public void Discard()
    {
        foreach (var item in _items) (item as Stream)?.Dispose();
        _items.Clear();
        UnsentBytes = _writing;
    }

    // 0x05, then (mbint size + bytes)* per chunk read, then a zero-size chunk: the singleton mode's reply.
    private static async Task<int> CopyAsUnsizedEnvelope(ConnectionIo io, Stream body)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MultiByteInt.MaxEncodedSize + 1 + ChunkSize);
        try
        {
            buffer[0] = (byte)FramingRecordType.UnsizedEnvelope;
            var prefix = 1;
            while (true)
            {
                // Read after the room for the record byte and the chunk size, so each chunk is one send.
                var dataStart = prefix + MultiByteInt.MaxEncodedSize;
                var n = await body.ReadAsync(buffer.AsMemory(dataStart, ChunkSize)).ConfigureAwait(false);
                var sizeLength = MultiByteInt.EncodedSize(n);
                var headerStart = dataStart - sizeLength - prefix;
                if (prefix == 1) buffer[headerStart] = (byte)FramingRecordType.UnsizedEnvelope;
                MultiByteInt.Write(buffer.AsSpan(dataStart - sizeLength), n);
                await io.Send(buffer.AsMemory(headerStart, prefix + sizeLength + n)).ConfigureAwait(false);
                if (n == 0) return 0; // the zero-size chunk just sent ends the envelope
                prefix = 0;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await body.DisposeAsync().ConfigureAwait(false);
        }
    }
}
