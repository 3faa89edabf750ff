using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Protocol.Tests.Framing;

public sealed class FramingWriterTests
{
    [Fact]
    public void Fixed_records_are_single_bytes()
    {
        Assert.Equal("0B", Bytes.ToHex(FramingWriter.PreambleAck));
        Assert.Equal("07", Bytes.ToHex(FramingWriter.End));
        Assert.Equal("0C", Bytes.ToHex(FramingWriter.PreambleEnd));
        Assert.Equal("0A", Bytes.ToHex(FramingWriter.UpgradeResponse));
        Assert.Equal("05", Bytes.ToHex(FramingWriter.UnsizedEnvelopeStart));
        Assert.Equal("00", Bytes.ToHex(FramingWriter.UnsizedEnvelopeEnd));
    }

    [Fact]
    public void Preamble_matches_the_reference_example_bytes()
    {
        var bytes = FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:9000/svc/Echo");
        Assert.Equal(
            "000100010202216E65742E7463703A2F2F6C6F63616C686F73743A393030302F7376632F4563686F03080C",
            Bytes.ToHex(bytes));
    }

    [Theory]
    [InlineData(FramingMode.Duplex, "application/soap+msbinsession1", true)]
    [InlineData(FramingMode.Singleton, "application/soap+msbinsession1", true)]
    [InlineData(FramingMode.Duplex, "application/soap+msbinsession1+gzip", true)]
    [InlineData(FramingMode.Singleton, "text/xml; charset=utf-8", true)]
    [InlineData(FramingMode.Simplex, "application/soap+msbin1", true)]
    [InlineData(FramingMode.SingletonSized, "application/x-ü", false)]
    public void Preamble_round_trips_through_the_decoder(FramingMode mode, string contentType, bool includeEnd)
    {
        const string via = "net.tcp://höst:808/a/b?q=1";
        var bytes = FramingWriter.Preamble(mode, via, contentType, includeEnd);
        var decoder = new PreambleDecoder();

        Assert.Equal(bytes.Length, decoder.Decode(bytes));
        Assert.Equal(PreambleStage.Complete, decoder.Stage);
        Assert.Equal(mode, decoder.Mode);
        Assert.Equal(via, decoder.Via);
        Assert.Equal(contentType, decoder.ContentType);
        Assert.Equal(KnownEncodings.TryGetId(contentType, out byte id) ? id : null, decoder.KnownEncodingId);
    }

    [Fact]
    public void Preamble_without_end_takes_upgrade_requests()
    {
        var head = FramingWriter.Preamble(FramingMode.Duplex, Pre.EchoVia, includePreambleEnd: false);
        var upgrade = new byte[FramingWriter.UpgradeRequestSize("application/negotiate")];
        Assert.Equal(upgrade.Length, FramingWriter.WriteUpgradeRequest(upgrade, "application/negotiate"));
        var data = Bytes.Concat(head, upgrade, FramingWriter.PreambleEnd.ToArray());
        var decoder = new PreambleDecoder();

        Assert.Equal(head.Length, decoder.Decode(head));
        Assert.Equal(PreambleStage.AfterEncoding, decoder.Stage);
        Assert.Equal(upgrade.Length, decoder.Decode(data.AsSpan(head.Length)));
        Assert.Equal("application/negotiate", decoder.UpgradeRequested);
        Assert.Equal(1, decoder.Decode(data.AsSpan(head.Length + upgrade.Length)));
        Assert.Equal(PreambleStage.Complete, decoder.Stage);
    }

    [Fact]
    public void Preamble_never_adds_PreambleEnd_for_modes_without_one()
    {
        var simplex = FramingWriter.Preamble(FramingMode.Simplex, Pre.EchoVia);
        Assert.Equal(Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Simplex), Pre.Via(Pre.EchoVia), Pre.Known(0x08)), simplex);
    }

    [Fact]
    public void Preamble_rejects_bad_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FramingWriter.Preamble((FramingMode)0, Pre.EchoVia));
        Assert.Throws<ArgumentOutOfRangeException>(() => FramingWriter.Preamble((FramingMode)5, Pre.EchoVia));
        Assert.Throws<ArgumentNullException>(() => FramingWriter.Preamble(FramingMode.Duplex, null!));
    }

    [Fact]
    public void Fault_round_trips_through_the_session_decoder()
    {
        var bytes = FramingWriter.Fault(FramingFaults.EndpointNotFound);
        Assert.Equal(FramingWriter.FaultSize(FramingFaults.EndpointNotFound), bytes.Length);
        Assert.Equal(Bytes.StringRecord(0x08, Bytes.Utf8(FramingFaults.EndpointNotFound)), bytes);

        var ev = new SessionDecoder(FramingMode.Duplex).Decode(bytes, out int consumed);
        Assert.Equal(SessionEventKind.Fault, ev.Kind);
        Assert.Equal(FramingFaults.EndpointNotFound, ev.FaultUri);
        Assert.Equal(bytes.Length, consumed);
    }

    [Fact]
    public void WriteFault_checks_the_destination_size()
    {
        int size = FramingWriter.FaultSize(FramingFaults.ServerTooBusy);
        Assert.Throws<ArgumentException>(() => FramingWriter.WriteFault(new byte[size - 1], FramingFaults.ServerTooBusy));

        var exact = new byte[size + 3];
        Assert.Equal(size, FramingWriter.WriteFault(exact, FramingFaults.ServerTooBusy));
        Assert.Equal(0, exact[size]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(65536)]
    [InlineData(int.MaxValue)]
    public void WriteSizedEnvelopeHeader_round_trips(int size)
    {
        Span<byte> header = stackalloc byte[FramingWriter.MaxSizedEnvelopeHeaderSize];
        int written = FramingWriter.WriteSizedEnvelopeHeader(header, size);
        Assert.Equal(FramingWriter.SizedEnvelopeHeaderSize(size), written);
        Assert.Equal(0x06, header[0]);

        var ev = new SessionDecoder(FramingMode.Duplex).Decode(header[..written], out int consumed);
        Assert.Equal(new SessionEvent(SessionEventKind.EnvelopeStart, Size: size), ev);
        Assert.Equal(written, consumed);
    }

    [Fact]
    public void Envelopes_written_by_the_writer_decode_back()
    {
        var messages = new[] { new byte[] { 1, 2, 3 }, new byte[300], Array.Empty<byte>() };
        var stream = new List<byte>();
        var header = new byte[FramingWriter.MaxSizedEnvelopeHeaderSize];
        foreach (var m in messages)
        {
            int n = FramingWriter.WriteSizedEnvelopeHeader(header, m.Length);
            stream.AddRange(header[..n]);
            stream.AddRange(m);
        }

        stream.AddRange(FramingWriter.End.ToArray());

        var log = SessionFeeder.Run(new SessionDecoder(FramingMode.Duplex), stream.ToArray(), Splits.ByteByByte(stream.Count));
        Assert.Equal(
            ["Start:3", "Data:010203", "EnvEnd:3", "Start:300", "Data:" + Bytes.ToHex(new byte[300]), "EnvEnd:300", "Start:0", "EnvEnd:0", "End", $"Waiting@{stream.Count}"],
            log);
    }

    [Fact]
    public void Unsized_chunks_written_by_the_writer_decode_back()
    {
        var stream = new List<byte>(FramingWriter.UnsizedEnvelopeStart.ToArray());
        var header = new byte[MultiByteInt.MaxEncodedSize];
        foreach (var chunk in new[] { new byte[] { 0xAA }, new byte[200] })
        {
            int n = FramingWriter.WriteUnsizedChunkHeader(header, chunk.Length);
            stream.AddRange(header[..n]);
            stream.AddRange(chunk);
        }

        Assert.Equal(1, FramingWriter.WriteUnsizedChunkHeader(header, 0));
        Assert.Equal(0, header[0]);
        stream.AddRange(FramingWriter.UnsizedEnvelopeEnd.ToArray());
        stream.AddRange(FramingWriter.End.ToArray());

        var log = SessionFeeder.Run(new SessionDecoder(FramingMode.Singleton), stream.ToArray(), Splits.Whole(stream.Count));
        Assert.Equal(
            ["Start:-1", "Data:AA" + Bytes.ToHex(new byte[200]), "EnvEnd:201", "End", $"Waiting@{stream.Count}"],
            log);
    }
}
