namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>
/// Follows the server-to-client bytes of a net.tcp duplex session (PreambleAck, then SizedEnvelope, Fault and End
/// records) just far enough to tell where the client's framing decoder would be: <see cref="SafeToCut"/> is true
/// between records once at least one envelope has arrived. Only used by <see cref="CuttingRelay"/>.
/// </summary>
internal sealed class ServerRecordBoundaries
{
    private enum Stage { Preamble, RecordType, Size, Body }

    private Stage _stage = Stage.Preamble;
    private int _size;
    private int _sizeShift;
    private int _bodyLeft;
    private int _envelopes;

    /// <summary>Between two records, after at least one complete envelope.</summary>
    public bool SafeToCut => _stage == Stage.RecordType && _envelopes > 0;

    /// <summary>
    /// Feeds <paramref name="bytes"/>; returns the smallest prefix length after which the stream is safe to cut,
    /// or -1 when no point inside them is (the state then reflects all of them).
    /// </summary>
    public int Feed(ReadOnlySpan<byte> bytes)
    {
        var firstSafe = -1;
        var i = 0;
        while (i < bytes.Length)
        {
            switch (_stage)
            {
                case Stage.Preamble:
                    i++; // PreambleAck (a Fault here ends the connection anyway)
                    _stage = Stage.RecordType;
                    break;
                case Stage.RecordType:
                    var type = bytes[i++];
                    // 0x06 SizedEnvelope and 0x08 Fault carry a size; 0x07 End stands alone.
                    if (type is 0x06 or 0x08)
                    {
                        _stage = Stage.Size;
                        _size = 0;
                        _sizeShift = 0;
                        if (type == 0x06) _envelopes++;
                    }
                    break;
                case Stage.Size:
                    var b = bytes[i++];
                    _size |= (b & 0x7F) << _sizeShift;
                    _sizeShift += 7;
                    if ((b & 0x80) == 0)
                    {
                        _bodyLeft = _size;
                        _stage = _bodyLeft == 0 ? Stage.RecordType : Stage.Body;
                    }
                    break;
                case Stage.Body:
                    var take = Math.Min(_bodyLeft, bytes.Length - i);
                    i += take;
                    _bodyLeft -= take;
                    if (_bodyLeft == 0) _stage = Stage.RecordType;
                    break;
            }
            if (firstSafe < 0 && SafeToCut) firstSafe = i;
        }
        return firstSafe;
    }
}
