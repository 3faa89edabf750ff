using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Protocol.Tests.Framing;

public sealed class SessionDecoderTests
{
    private sealed record Case(FramingMode Mode, byte[] Data, string[] Expected);

    private static byte[] Payload(int size, int seed) =>
        Enumerable.Range(0, size).Select(i => (byte)(i * 7 + seed)).ToArray();

    private static byte[] Sized(byte[] payload) => Bytes.Concat([0x06], Bytes.MbInt(payload.Length), payload);

    private static byte[] Chunk(byte[] payload) => Bytes.Concat(Bytes.MbInt(payload.Length), payload);

    private static readonly byte[] P5 = Payload(5, 1);
    private static readonly byte[] P200 = Payload(200, 3);
    private static readonly byte[] P130 = Payload(130, 5);
    private const string NotFound = FramingFaults.EndpointNotFound;

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["duplex-envelopes-then-end"] = new(FramingMode.Duplex,
            Bytes.Concat(Sized(P5), Sized(P200), Sized([]), [0x07]),
            ["Start:5", "Data:" + Bytes.ToHex(P5), "EnvEnd:5",
             "Start:200", "Data:" + Bytes.ToHex(P200), "EnvEnd:200",
             "Start:0", "EnvEnd:0", "End", "Waiting@213"]),
        ["duplex-end-then-new-preamble"] = new(FramingMode.Duplex,
            Bytes.Concat(Sized(P5), [0x07], Pre.Duplex()),
            ["Start:5", "Data:" + Bytes.ToHex(P5), "EnvEnd:5", "End", "PreambleStart@8"]),
        ["duplex-fault"] = new(FramingMode.Duplex,
            Bytes.Concat(Sized(P5), Bytes.StringRecord(0x08, Bytes.Utf8(NotFound))),
            ["Start:5", "Data:" + Bytes.ToHex(P5), "EnvEnd:5", "Fault:" + NotFound, "Waiting@" + (7 + 2 + NotFound.Length)]),
        ["duplex-non-minimal-size"] = new(FramingMode.Duplex,
            Bytes.Concat(Bytes.Hex("06 85 80 80 80 00"), P5, [0x07]),
            ["Start:5", "Data:" + Bytes.ToHex(P5), "EnvEnd:5", "End", "Waiting@12"]),
        ["simplex-envelope"] = new(FramingMode.Simplex,
            Bytes.Concat(Sized(P5), [0x07]),
            ["Start:5", "Data:" + Bytes.ToHex(P5), "EnvEnd:5", "End", "Waiting@8"]),
        ["singleton-chunks"] = new(FramingMode.Singleton,
            Bytes.Concat([0x05], Chunk(P5), Chunk(P130), Chunk([0xEE]), [0x00, 0x07], Pre.Duplex()),
            ["Start:-1", "Data:" + Bytes.ToHex(Bytes.Concat(P5, P130, [0xEE])), "EnvEnd:136", "End", "PreambleStart@" + (1 + 6 + 132 + 2 + 2)]),
        ["singleton-empty-envelope"] = new(FramingMode.Singleton,
            Bytes.Hex("05 00 07"),
            ["Start:-1", "EnvEnd:0", "End", "Waiting@3"]),
        ["singleton-end-without-envelope"] = new(FramingMode.Singleton,
            Bytes.Hex("07"),
            ["End", "Waiting@1"]),
        ["singleton-fault"] = new(FramingMode.Singleton,
            Bytes.Concat(Bytes.Hex("05 01 AB 00"), Bytes.StringRecord(0x08, Bytes.Utf8("urn:ü"))),
            ["Start:-1", "Data:AB", "EnvEnd:1", "Fault:urn:ü", "Waiting@12"]),
        ["garbage-first-byte"] = new(FramingMode.Duplex, Bytes.Hex("FF 06 01 00"), ["Invalid"]),
        ["unsized-in-duplex"] = new(FramingMode.Duplex, Bytes.Hex("05 01 AA 00 07"), ["Invalid"]),
        ["sized-in-singleton"] = new(FramingMode.Singleton, Bytes.Hex("06 01 AA 07"), ["Invalid"]),
        ["second-unsized-envelope"] = new(FramingMode.Singleton, Bytes.Hex("05 01 AA 00 05 00 07"),
            ["Start:-1", "Data:AA", "EnvEnd:1", "Invalid"]),
        ["preamble-record-in-session"] = new(FramingMode.Duplex, Bytes.Hex("0C"), ["Invalid"]),
        ["version-byte-before-end"] = new(FramingMode.Duplex, Bytes.Concat(Sized(P5), Pre.Duplex()),
            ["Start:5", "Data:" + Bytes.ToHex(P5), "EnvEnd:5", "Invalid"]),
        ["envelope-after-end"] = new(FramingMode.Duplex, Bytes.Concat([0x07], Sized(P5)), ["End", "Invalid"]),
        ["bytes-after-fault"] = new(FramingMode.Duplex, Bytes.Concat(Bytes.StringRecord(0x08, Bytes.Utf8(NotFound)), [0x07]),
            ["Fault:" + NotFound, "Invalid"]),
        ["size-too-large"] = new(FramingMode.Duplex, Bytes.Hex("06 FF FF FF FF 08 00"), ["Invalid"]),
        ["size-six-bytes"] = new(FramingMode.Duplex, Bytes.Hex("06 80 80 80 80 80 00"), ["Invalid"]),
        ["chunk-size-too-large"] = new(FramingMode.Singleton, Bytes.Hex("05 FF FF FF FF 7F"), ["Start:-1", "Invalid"]),
        ["fault-257-bytes"] = new(FramingMode.Duplex, Bytes.StringRecord(0x08, Bytes.Utf8(new string('f', 257))), ["Invalid"]),
        ["fault-invalid-utf8"] = new(FramingMode.Duplex, Bytes.StringRecord(0x08, [0x66, 0xFF]), ["Invalid"]),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Decode_handles_every_split_point(string name)
    {
        var c = Cases[name];
        foreach (var (split, ends) in Splits.All(c.Data.Length))
        {
            var log = SessionFeeder.Run(new SessionDecoder(c.Mode), c.Data, ends);
            Assert.True(c.Expected.SequenceEqual(log), $"{name} / {split}: expected [{string.Join(" ", c.Expected)}], got [{string.Join(" ", log)}]");
        }
    }

    [Fact]
    public void Fault_of_exactly_256_bytes_is_accepted()
    {
        var uri = FramingFaults.Prefix + new string('x', 256 - FramingFaults.Prefix.Length);
        var data = Bytes.StringRecord(0x08, Bytes.Utf8(uri));
        var ev = new SessionDecoder(FramingMode.Duplex).Decode(data, out int consumed);

        Assert.Equal(SessionEventKind.Fault, ev.Kind);
        Assert.Equal(uri, ev.FaultUri);
        Assert.Equal(data.Length, consumed);
    }

    [Fact]
    public void EnvelopeData_points_into_the_input_after_the_header()
    {
        var decoder = new SessionDecoder(FramingMode.Duplex);
        var data = Bytes.Concat(Sized(P5), [0x07]);

        var start = decoder.Decode(data, out int c1);
        Assert.Equal(new SessionEvent(SessionEventKind.EnvelopeStart, Size: 5), start);
        Assert.Equal(2, c1);

        var body = decoder.Decode(data.AsSpan(c1), out int c2);
        Assert.Equal(new SessionEvent(SessionEventKind.EnvelopeData, DataOffset: 0, DataLength: 5), body);
        Assert.Equal(5, c2);

        // The end of a sized envelope is reported without reading anything, even from an empty read.
        var end = decoder.Decode(ReadOnlySpan<byte>.Empty, out int c3);
        Assert.Equal(new SessionEvent(SessionEventKind.EnvelopeEnd, Size: 5), end);
        Assert.Equal(0, c3);

        Assert.Equal(SessionEventKind.End, decoder.Decode(data.AsSpan(c1 + c2), out int c4).Kind);
        Assert.Equal(1, c4);
    }

    [Fact]
    public void Unsized_chunk_data_offset_skips_the_chunk_header_in_the_same_read()
    {
        var decoder = new SessionDecoder(FramingMode.Singleton);
        var data = Bytes.Concat([0x05], Chunk(P130), [0x00]);

        Assert.Equal(SessionEventKind.EnvelopeStart, decoder.Decode(data, out int c1).Kind);
        var body = decoder.Decode(data.AsSpan(c1), out int c2);

        Assert.Equal(SessionEventKind.EnvelopeData, body.Kind);
        Assert.Equal(2, body.DataOffset); // mbint(130) is two bytes
        Assert.Equal(130, body.DataLength);
        Assert.Equal(132, c2);
        Assert.True(decoder.InEnvelope);

        var end = decoder.Decode(data.AsSpan(c1 + c2), out int c3);
        Assert.Equal(new SessionEvent(SessionEventKind.EnvelopeEnd, Size: 130), end);
        Assert.Equal(1, c3);
        Assert.False(decoder.InEnvelope);
    }

    [Fact]
    public void PreambleStart_consumes_nothing_and_repeats_until_reset()
    {
        var decoder = new SessionDecoder(FramingMode.Duplex);
        var next = Pre.Duplex();

        Assert.Equal(SessionEventKind.End, decoder.Decode([0x07], out _).Kind);
        Assert.Equal(SessionEventKind.NeedMoreData, decoder.Decode(ReadOnlySpan<byte>.Empty, out _).Kind);

        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(SessionEventKind.PreambleStart, decoder.Decode(next, out int consumed).Kind);
            Assert.Equal(0, consumed);
        }

        decoder.Reset(FramingMode.Singleton);
        Assert.Equal(FramingMode.Singleton, decoder.Mode);
        Assert.Equal(SessionEventKind.EnvelopeStart, decoder.Decode([0x05], out _).Kind);
    }

    [Fact]
    public void Invalid_is_sticky_until_reset()
    {
        var decoder = new SessionDecoder(FramingMode.Duplex);
        Assert.Equal(SessionEventKind.Invalid, decoder.Decode([0x42], out _).Kind);
        Assert.Equal(SessionEventKind.Invalid, decoder.Decode([0x07], out int consumed).Kind);
        Assert.Equal(0, consumed);
        Assert.Equal(SessionEventKind.Invalid, decoder.Decode(ReadOnlySpan<byte>.Empty, out _).Kind);

        decoder.Reset(FramingMode.Duplex);
        Assert.Equal(SessionEventKind.End, decoder.Decode([0x07], out _).Kind);
    }

    [Fact]
    public void Record_boundary_tracking_tells_clean_eof_from_truncation()
    {
        var decoder = new SessionDecoder(FramingMode.Duplex);
        Assert.True(decoder.AtRecordBoundary);

        decoder.Decode([0x06], out _);
        Assert.False(decoder.AtRecordBoundary);
        Assert.True(decoder.InEnvelope);
    }

    [Fact]
    public void Connection_reuse_flow_handles_every_split_point()
    {
        // Two sessions back to back on one connection, as a pooled WCF client sends them: the session decoder
        // hands over at the second Version byte and a preamble decoder takes it from there.
        var data = Bytes.Concat(
            Pre.Duplex("net.tcp://localhost:9000/a/svc"), Sized(P5), [0x07],
            Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Singleton), Pre.Via("net.tcp://localhost:9000/b/svc"), Pre.Known(0x08), Pre.End),
            [0x05], Chunk(P130), [0x00, 0x07]);
        string[] expected =
        [
            "Preamble:Duplex:net.tcp://localhost:9000/a/svc", "Start:5", "Data:" + Bytes.ToHex(P5), "EnvEnd:5", "End",
            "Preamble:Singleton:net.tcp://localhost:9000/b/svc", "Start:-1", "Data:" + Bytes.ToHex(P130), "EnvEnd:130", "End",
        ];

        foreach (var (split, ends) in Splits.All(data.Length))
        {
            var log = RunConnection(data, ends);
            Assert.True(expected.SequenceEqual(log), $"{split}: got [{string.Join(" ", log)}]");
        }
    }

    [Fact]
    public void Reset_rejects_modes_without_records()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SessionDecoder(FramingMode.SingletonSized));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SessionDecoder((FramingMode)0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SessionDecoder(FramingMode.Duplex).Reset((FramingMode)9));
    }

    /// <summary>A miniature connection handler: preamble decoder and session decoder taking turns.</summary>
    private static List<string> RunConnection(byte[] data, int[] ends)
    {
        var log = new List<string>();
        var preamble = new PreambleDecoder();
        SessionDecoder? session = null;
        var payload = new List<byte>();
        int offset = 0;
        foreach (int end in ends)
        {
            while (offset < end || session is not null)
            {
                var input = data.AsSpan(offset, end - offset);
                if (session is null)
                {
                    offset += preamble.Decode(input);
                    Assert.NotEqual(PreambleStage.Failed, preamble.Stage);
                    if (preamble.Stage != PreambleStage.Complete)
                    {
                        break;
                    }

                    log.Add($"Preamble:{preamble.Mode}:{preamble.Via}");
                    session = new SessionDecoder(preamble.Mode);
                    continue;
                }

                var ev = session.Decode(input, out int consumed);
                offset += consumed;
                switch (ev.Kind)
                {
                    case SessionEventKind.NeedMoreData:
                        goto nextRead;
                    case SessionEventKind.EnvelopeStart:
                        log.Add($"Start:{ev.Size}");
                        break;
                    case SessionEventKind.EnvelopeData:
                        payload.AddRange(input.Slice(ev.DataOffset, ev.DataLength).ToArray());
                        break;
                    case SessionEventKind.EnvelopeEnd:
                        log.Add("Data:" + Bytes.ToHex(payload.ToArray()));
                        payload.Clear();
                        log.Add($"EnvEnd:{ev.Size}");
                        break;
                    case SessionEventKind.End:
                        log.Add("End");
                        break;
                    case SessionEventKind.PreambleStart:
                        preamble.Reset();
                        session = null;
                        break;
                    default:
                        Assert.Fail($"unexpected {ev}");
                        break;
                }
            }

            nextRead:;
        }

        return log;
    }
}
