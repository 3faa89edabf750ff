using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Protocol.Tests.Framing;

public sealed class PreambleDecoderTests
{
    private sealed record Case(byte[] Preamble, PreambleOutcome Expected);

    // Bytes that follow the preamble on the wire; the decoder must never consume them.
    private static readonly byte[] Trailer = Bytes.Hex("06 02 AA BB 07");

    private static readonly string LongVia = "net.tcp://localhost/" + new string('a', 2048 - "net.tcp://localhost/".Length);

    private const string UnicodeVia = "net.tcp://localhost:9000/dienst/größe/日本語/😀";

    private static Case Valid(
        byte[] preamble,
        FramingMode mode,
        string via,
        string contentType,
        string upgrades = "",
        int minor = 0) =>
        new(preamble, new PreambleOutcome(
            PreambleStage.Complete, PreambleError.None, null, mode, 1, minor, via, contentType, upgrades, preamble.Length));

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["duplex-known"] = Valid(
            Pre.Duplex(), FramingMode.Duplex, Pre.EchoVia, Pre.BinarySession),
        ["singleton-known"] = Valid(
            Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Singleton), Pre.Via(Pre.EchoVia), Pre.Known(0x03), Pre.End),
            FramingMode.Singleton, Pre.EchoVia, "application/soap+xml; charset=utf-8"),
        ["duplex-extensible"] = Valid(
            Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Duplex), Pre.Via(Pre.EchoVia), Pre.Extensible("application/soap+msbinsession1+gzip"), Pre.End),
            FramingMode.Duplex, Pre.EchoVia, "application/soap+msbinsession1+gzip"),
        ["singleton-extensible"] = Valid(
            Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Singleton), Pre.Via(Pre.EchoVia), Pre.Extensible("text/plain; x=ü"), Pre.End),
            FramingMode.Singleton, Pre.EchoVia, "text/plain; x=ü"),
        ["simplex"] = Valid(
            Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Simplex), Pre.Via("net.msmq://host/private/q"), Pre.Known(0x07)),
            FramingMode.Simplex, "net.msmq://host/private/q", "application/soap+msbin1"),
        ["singleton-sized"] = Valid(
            Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.SingletonSized), Pre.Via(Pre.EchoVia), Pre.Extensible("application/x-custom")),
            FramingMode.SingletonSized, Pre.EchoVia, "application/x-custom"),
        ["duplex-upgrade"] = Valid(
            Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Duplex), Pre.Via(Pre.EchoVia), Pre.Known(0x08), Pre.Upgrade("application/ssl-tls"), Pre.End),
            FramingMode.Duplex, Pre.EchoVia, Pre.BinarySession, "application/ssl-tls"),
        ["singleton-two-upgrades"] = Valid(
            Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Singleton), Pre.Via(Pre.EchoVia), Pre.Known(0x08), Pre.Upgrade("application/negotiate"), Pre.Upgrade("application/ssl-tls"), Pre.End),
            FramingMode.Singleton, Pre.EchoVia, Pre.BinarySession, "application/negotiate,application/ssl-tls"),
        ["via-multibyte-utf8"] = Valid(
            Pre.Duplex(UnicodeVia), FramingMode.Duplex, UnicodeVia, Pre.BinarySession),
        ["via-exactly-2048-bytes"] = Valid(
            Pre.Duplex(LongVia), FramingMode.Duplex, LongVia, Pre.BinarySession),
        ["unknown-known-encoding-id"] = Valid(
            Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Duplex), Pre.Via(Pre.EchoVia), Pre.Known(42), Pre.End),
            FramingMode.Duplex, Pre.EchoVia, "unknown42"),
        ["minor-version-ignored"] = Valid(
            Bytes.Concat(Pre.Version(1, 7), Pre.Mode(FramingMode.Duplex), Pre.Via(Pre.EchoVia), Pre.Known(0x08), Pre.End),
            FramingMode.Duplex, Pre.EchoVia, Pre.BinarySession, minor: 7),
        ["non-minimal-length"] = Valid(
            // 33 encoded over three bytes (A1 80 00): WCF accepts over-long integers, so must we.
            Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Duplex), Bytes.Hex("02 A1 80 00"), Bytes.Utf8(Pre.EchoVia), Pre.Known(0x08), Pre.End),
            FramingMode.Duplex, Pre.EchoVia, Pre.BinarySession),
        ["empty-content-type"] = Valid(
            Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Duplex), Pre.Via(Pre.EchoVia), Bytes.Hex("04 00"), Pre.End),
            FramingMode.Duplex, Pre.EchoVia, string.Empty),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Fact]
    public void Test_vias_have_the_intended_byte_lengths()
    {
        Assert.Equal(2048, Bytes.Utf8(LongVia).Length);
        Assert.True(Bytes.Utf8(UnicodeVia).Length > UnicodeVia.Length);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Decode_handles_every_split_point(string name)
    {
        var c = Cases[name];
        var data = Bytes.Concat(c.Preamble, Trailer);
        foreach (var (split, ends) in Splits.All(data.Length))
        {
            var outcome = PreambleFeeder.Feed(data, ends);
            Assert.True(c.Expected == outcome, $"{name} / {split}: expected {c.Expected}, got {outcome}");
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Decode_of_truncated_preamble_waits_for_more(string name)
    {
        var preamble = Cases[name].Preamble;
        for (int length = 0; length < preamble.Length; length++)
        {
            var outcome = PreambleFeeder.Feed(preamble[..length], Splits.Whole(length));
            Assert.NotEqual(PreambleStage.Complete, outcome.Stage);
            Assert.NotEqual(PreambleStage.Failed, outcome.Stage);
            Assert.Equal(PreambleError.None, outcome.Error);
            Assert.Equal(length, outcome.Consumed);
        }
    }

    [Fact]
    public void Decode_accepts_the_reference_example_bytes()
    {
        var bytes = Bytes.Hex(
            "00 01 00 01 02 02 21 6E 65 74 2E 74 63 70 3A 2F 2F 6C 6F 63 61 6C 68 6F 73 74 3A 39 30 30 30 2F 73 76 63 2F 45 63 68 6F 03 08 0C");
        var decoder = new PreambleDecoder();

        int consumed = decoder.Decode(bytes);

        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(PreambleStage.Complete, decoder.Stage);
        Assert.Equal(FramingMode.Duplex, decoder.Mode);
        Assert.Equal((1, 0), (decoder.MajorVersion, decoder.MinorVersion));
        Assert.Equal("net.tcp://localhost:9000/svc/Echo", decoder.Via);
        Assert.Equal(KnownEncodings.BinarySessionContentType, decoder.ContentType);
        Assert.Equal(KnownEncodings.BinarySession, decoder.KnownEncodingId);
        Assert.Equal(PreambleError.None, decoder.Error);
        Assert.Null(decoder.FaultFor);
        Assert.Null(decoder.UpgradeRequested);
    }

    [Fact]
    public void Stage_advances_record_by_record()
    {
        var decoder = new PreambleDecoder();
        Assert.Equal(PreambleStage.Version, decoder.Stage);
        Assert.False(decoder.HasStarted);

        decoder.Decode(Pre.Version10);
        Assert.Equal(PreambleStage.Mode, decoder.Stage);
        Assert.True(decoder.HasStarted);

        decoder.Decode(Pre.Mode(FramingMode.Duplex));
        Assert.Equal(PreambleStage.Via, decoder.Stage);
        Assert.Equal(FramingMode.Duplex, decoder.Mode);

        decoder.Decode(Pre.Via(Pre.EchoVia));
        Assert.Equal(PreambleStage.Encoding, decoder.Stage);
        Assert.Equal(Pre.EchoVia, decoder.Via);
        Assert.Null(decoder.ContentType);

        decoder.Decode(Pre.Known(0x08));
        Assert.Equal(PreambleStage.AfterEncoding, decoder.Stage);
        Assert.Equal(Pre.BinarySession, decoder.ContentType);

        decoder.Decode(Pre.End);
        Assert.Equal(PreambleStage.Complete, decoder.Stage);
        Assert.True(decoder.IsFinished);
    }

    [Fact]
    public void UpgradeRequest_pauses_decoding_until_the_next_call()
    {
        var upgrade = Pre.Upgrade("application/ssl-tls");
        var head = Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Duplex), Pre.Via(Pre.EchoVia), Pre.Known(0x08));
        var data = Bytes.Concat(head, upgrade, Pre.End);
        var decoder = new PreambleDecoder();

        int first = decoder.Decode(data);
        Assert.Equal(head.Length + upgrade.Length, first);
        Assert.Equal(PreambleStage.AfterEncoding, decoder.Stage);
        Assert.Equal("application/ssl-tls", decoder.UpgradeRequested);
        Assert.True(decoder.IsUpgradePending);

        // An empty read does not lose the pending upgrade.
        Assert.Equal(0, decoder.Decode(ReadOnlySpan<byte>.Empty));
        Assert.Equal("application/ssl-tls", decoder.UpgradeRequested);

        int second = decoder.Decode(data.AsSpan(first));
        Assert.Equal(1, second);
        Assert.Null(decoder.UpgradeRequested);
        Assert.Equal(PreambleStage.Complete, decoder.Stage);
    }

    [Fact]
    public void Decode_after_complete_consumes_nothing()
    {
        var decoder = new PreambleDecoder();
        var data = Pre.Duplex();
        Assert.Equal(data.Length, decoder.Decode(data));

        Assert.Equal(0, decoder.Decode(Pre.Duplex()));
        Assert.Equal(PreambleStage.Complete, decoder.Stage);
    }

    [Fact]
    public void Simplex_preamble_is_complete_after_the_encoding_and_leaves_PreambleEnd_byte_alone()
    {
        var data = Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Simplex), Pre.Via(Pre.EchoVia), Pre.Known(0x08), Pre.End);
        var decoder = new PreambleDecoder();

        Assert.Equal(data.Length - 1, decoder.Decode(data));
        Assert.Equal(PreambleStage.Complete, decoder.Stage);
    }

    [Fact]
    public void Reset_allows_a_second_preamble_on_the_same_decoder()
    {
        var decoder = new PreambleDecoder();
        var first = Pre.Duplex("net.tcp://localhost:9000/a/svc");
        var second = Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Singleton), Pre.Via("net.tcp://localhost:9000/b/svc"), Pre.Extensible("x/y"), Pre.End);

        // Leave the first decode mid-via so Reset also has to drop a partial string buffer.
        decoder.Decode(first.AsSpan(0, 10));
        decoder.Reset();
        Assert.Equal(PreambleStage.Version, decoder.Stage);
        Assert.Equal(first.Length, decoder.Decode(first));
        Assert.Equal("net.tcp://localhost:9000/a/svc", decoder.Via);

        decoder.Reset();
        Assert.Null(decoder.Via);
        Assert.Null(decoder.ContentType);
        Assert.Equal(second.Length, decoder.Decode(second));
        Assert.Equal(PreambleStage.Complete, decoder.Stage);
        Assert.Equal(FramingMode.Singleton, decoder.Mode);
        Assert.Equal("net.tcp://localhost:9000/b/svc", decoder.Via);
        Assert.Equal("x/y", decoder.ContentType);
        Assert.Null(decoder.KnownEncodingId);
    }

    [Fact]
    public void Custom_via_limit_is_inclusive()
    {
        const string via = "net.tcp://h/abcd"; // 16 bytes
        var atLimit = PreambleFeeder.Feed(Pre.Duplex(via), Splits.ByteByByte(Pre.Duplex(via).Length), maxVia: 16);
        Assert.Equal(PreambleStage.Complete, atLimit.Stage);

        var overLimit = PreambleFeeder.Feed(Pre.Duplex(via + "e"), Splits.Whole(Pre.Duplex(via + "e").Length), maxVia: 16);
        Assert.Equal(PreambleError.ViaTooLong, overLimit.Error);
    }

    [Fact]
    public void Constructor_rejects_negative_limits()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PreambleDecoder(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PreambleDecoder(2048, -1));
    }
}
