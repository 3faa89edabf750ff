using System.Buffers;

namespace AkkaPortShare.Protocol.Framing;

/// <summary>
/// Reads the records that follow a completed preamble: SizedEnvelope* (Duplex, also Simplex) or one
/// UnsizedEnvelope (Singleton), then End or Fault. Each <see cref="Decode"/> call returns one event; payload bytes
/// are reported as a window into the caller's input and never copied here. Input may be split at any byte:
/// partial record headers are kept internally and reported as consumed.
/// </summary>
/// <remarks>
/// Caller loop: <c>ev = Decode(buf[off..], out n); off += n;</c> — always advance by <c>n</c>, whatever the kind.
/// <see cref="SessionEventKind.NeedMoreData"/> means the whole input was used. <see cref="SessionEventKind.EnvelopeEnd"/>
/// of a sized envelope and <see cref="SessionEventKind.PreambleStart"/> consume nothing and may be returned for
/// empty input. <see cref="SessionEventKind.Invalid"/> consumes nothing and is sticky until <see cref="Reset"/>.
/// </remarks>
public sealed class SessionDecoder
{
    private enum Step : byte
    {
        Record,          // expecting a record type byte
        SizedLength,     // inside the mbint size of a SizedEnvelope
        SizedPayload,    // inside the payload of a SizedEnvelope
        SizedEnd,        // payload complete; EnvelopeEnd still to be reported
        ChunkLength,     // inside the mbint size of an unsized-envelope chunk
        ChunkPayload,    // inside the payload of a chunk
        FaultString,     // inside the body of a Fault record
        AfterEnd,        // End seen: only a new preamble may follow
        PreambleStart,   // a Version byte follows End: hand over to a PreambleDecoder
        AfterFault,      // nothing may follow a Fault
        Invalid,
    }

    private FramingMode _mode;
    private Step _step;
    private MultiByteIntReader _int;
    private Utf8StringRecordReader _fault;
    private int _remaining;       // payload bytes still due in the current sized envelope or chunk
    private int _envelopeBytes;   // payload bytes of the current envelope so far (reported by EnvelopeEnd)
    private bool _unsizedEnvelopeSeen;

    public SessionDecoder(FramingMode mode)
    {
        Reset(mode);
    }

    public FramingMode Mode => _mode;

    /// <summary>True between EnvelopeStart and EnvelopeEnd (e.g. to tell a clean EOF from a truncated message).</summary>
    public bool InEnvelope => _step is Step.SizedLength or Step.SizedPayload or Step.SizedEnd or Step.ChunkLength or Step.ChunkPayload;

    /// <summary>True when no partial record is held: EOF here is a clean (if abrupt) end of the stream.</summary>
    public bool AtRecordBoundary => _step is Step.Record or Step.AfterEnd or Step.PreambleStart or Step.AfterFault;

    /// <summary>Decodes the next event from <paramref name="input"/>; see the class remarks for the contract.</summary>
    public SessionEvent Decode(ReadOnlySpan<byte> input, out int consumed)
    {
        int pos = 0;
        while (true)
        {
            // Events owed without reading anything.
            switch (_step)
            {
                case Step.Invalid:
                    consumed = 0;
                    return new SessionEvent(SessionEventKind.Invalid);
                case Step.PreambleStart:
                    consumed = pos;
                    return new SessionEvent(SessionEventKind.PreambleStart);
                case Step.SizedEnd:
                    _step = Step.Record;
                    consumed = pos;
                    return new SessionEvent(SessionEventKind.EnvelopeEnd, Size: _envelopeBytes);
            }

            if (pos == input.Length)
            {
                consumed = pos;
                return new SessionEvent(SessionEventKind.NeedMoreData);
            }

            switch (_step)
            {
                case Step.Record:
                    switch ((FramingRecordType)input[pos])
                    {
                        case FramingRecordType.SizedEnvelope when _mode != FramingMode.Singleton:
                            pos++;
                            _step = Step.SizedLength;
                            break;

                        case FramingRecordType.UnsizedEnvelope when _mode == FramingMode.Singleton && !_unsizedEnvelopeSeen:
                            pos++;
                            _unsizedEnvelopeSeen = true;
                            _envelopeBytes = 0;
                            _step = Step.ChunkLength;
                            consumed = pos;
                            return new SessionEvent(SessionEventKind.EnvelopeStart, Size: -1);

                        case FramingRecordType.End:
                            pos++;
                            _step = Step.AfterEnd;
                            consumed = pos;
                            return new SessionEvent(SessionEventKind.End);

                        case FramingRecordType.Fault:
                            pos++;
                            _step = Step.FaultString;
                            break;

                        default:
                            return Invalid(out consumed);
                    }

                    break;

                case Step.AfterEnd:
                    // A pooled client reuses the connection by sending a complete new preamble. Leave its bytes
                    // in place so the caller can give them to a fresh PreambleDecoder.
                    if (input[pos] != (byte)FramingRecordType.Version)
                    {
                        return Invalid(out consumed);
                    }

                    _step = Step.PreambleStart;
                    break;

                case Step.AfterFault:
                    return Invalid(out consumed);

                case Step.SizedLength:
                {
                    var status = _int.Read(input[pos..], out int size, out int used);
                    pos += used;
                    if (status == OperationStatus.NeedMoreData)
                    {
                        break;
                    }

                    if (status != OperationStatus.Done)
                    {
                        return Invalid(out consumed);
                    }

                    _remaining = size;
                    _envelopeBytes = size;
                    _step = size == 0 ? Step.SizedEnd : Step.SizedPayload;
                    consumed = pos;
                    return new SessionEvent(SessionEventKind.EnvelopeStart, Size: size);
                }

                case Step.SizedPayload:
                {
                    int offset = pos;
                    int take = Math.Min(_remaining, input.Length - pos);
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        _step = Step.SizedEnd;
                    }

                    consumed = pos + take;
                    return new SessionEvent(SessionEventKind.EnvelopeData, DataOffset: offset, DataLength: take);
                }

                case Step.ChunkLength:
                {
                    var status = _int.Read(input[pos..], out int size, out int used);
                    pos += used;
                    if (status == OperationStatus.NeedMoreData)
                    {
                        break;
                    }

                    if (status != OperationStatus.Done)
                    {
                        return Invalid(out consumed);
                    }

                    if (size == 0)
                    {
                        // The zero-size chunk terminates the unsized envelope; only End (or Fault) may follow.
                        _step = Step.Record;
                        consumed = pos;
                        return new SessionEvent(SessionEventKind.EnvelopeEnd, Size: _envelopeBytes);
                    }

                    _remaining = size;
                    _step = Step.ChunkPayload;

                    // Streamed messages may exceed 2 GB in total; saturate rather than wrap.
                    _envelopeBytes = (int)Math.Min((long)_envelopeBytes + size, int.MaxValue);
                    break;
                }

                case Step.ChunkPayload:
                {
                    int offset = pos;
                    int take = Math.Min(_remaining, input.Length - pos);
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        _step = Step.ChunkLength;
                    }

                    consumed = pos + take;
                    return new SessionEvent(SessionEventKind.EnvelopeData, DataOffset: offset, DataLength: take);
                }

                case Step.FaultString:
                {
                    var status = _fault.Read(input[pos..], FramingLimits.MaxFaultSize, out int used, out string? fault);
                    pos += used;
                    if (status == StringRecordStatus.NeedMoreData)
                    {
                        break;
                    }

                    if (status != StringRecordStatus.Done)
                    {
                        return Invalid(out consumed);
                    }

                    _step = Step.AfterFault;
                    consumed = pos;
                    return new SessionEvent(SessionEventKind.Fault, FaultUri: fault);
                }
            }
        }
    }

    /// <summary>Starts over for a new session in <paramref name="mode"/> (e.g. after the next preamble).</summary>
    /// <exception cref="ArgumentOutOfRangeException">SingletonSized (no records follow its preamble) or an undefined mode.</exception>
    public void Reset(FramingMode mode)
    {
        if (mode is not (FramingMode.Duplex or FramingMode.Singleton or FramingMode.Simplex))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Only Duplex, Singleton and Simplex sessions carry framing records.");
        }

        _fault.Reset();
        _int = default;
        _mode = mode;
        _step = Step.Record;
        _remaining = 0;
        _envelopeBytes = 0;
        _unsizedEnvelopeSeen = false;
    }

    private SessionEvent Invalid(out int consumed)
    {
        _fault.Reset();
        _step = Step.Invalid;
        consumed = 0;
        return new SessionEvent(SessionEventKind.Invalid);
    }
}
