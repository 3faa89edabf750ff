using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Protocol.Tests.Framing;

public sealed class PreambleDecoderErrorTests
{
    private sealed record Case(byte[] Data, PreambleError Error, string? Fault, int Consumed);

    private static readonly byte[] Head = Bytes.Concat(Pre.Version10, Pre.Mode(FramingMode.Duplex));
    private static readonly byte[] HeadVia = Bytes.Concat(Head, Pre.Via(Pre.EchoVia));
    private static readonly byte[] HeadViaEncoding = Bytes.Concat(HeadVia, Pre.Known(0x08));

    // Valid bytes after the offending spot, so a decoder that wrongly carries on would be noticed.
    private static readonly byte[] Rest = Bytes.Concat(Pre.Known(0x08), Pre.End);

    private static Case Fails(byte[] data, PreambleError error, int consumed, string? fault = null) =>
        new(data, error, fault, consumed);

    private static Case ViaFails(byte[] viaBody, PreambleError error)
    {
        var data = Bytes.Concat(Head, Bytes.StringRecord(0x02, viaBody), Rest);
        return Fails(data, error, Head.Length + 1 + Bytes.MbInt(viaBody.Length).Length + viaBody.Length);
    }

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["first-byte-not-version"] = Fails(Bytes.Concat(Pre.Mode(FramingMode.Duplex), Pre.Version10), PreambleError.UnexpectedRecord, 1),
        ["http-request"] = Fails(Bytes.Utf8("GET / HTTP/1.1\r\n\r\n"), PreambleError.UnexpectedRecord, 1),
        ["major-version-2"] = Fails(Bytes.Concat(Pre.Version(2, 0), Pre.Mode(FramingMode.Duplex), Pre.Via(Pre.EchoVia), Rest), PreambleError.UnsupportedVersion, 2, FramingFaults.UnsupportedVersion),
        ["major-version-0"] = Fails(Bytes.Concat(Pre.Version(0, 0), Pre.Mode(FramingMode.Duplex)), PreambleError.UnsupportedVersion, 2, FramingFaults.UnsupportedVersion),
        ["mode-0"] = Fails(Bytes.Concat(Pre.Version10, Pre.RawMode(0), Pre.Via(Pre.EchoVia), Rest), PreambleError.UnsupportedMode, 5, FramingFaults.UnsupportedMode),
        ["mode-5"] = Fails(Bytes.Concat(Pre.Version10, Pre.RawMode(5), Pre.Via(Pre.EchoVia), Rest), PreambleError.UnsupportedMode, 5, FramingFaults.UnsupportedMode),
        ["via-instead-of-mode"] = Fails(Bytes.Concat(Pre.Version10, Pre.Via(Pre.EchoVia)), PreambleError.UnexpectedRecord, 4),
        ["encoding-instead-of-via"] = Fails(Bytes.Concat(Head, Rest), PreambleError.UnexpectedRecord, Head.Length + 1),
        ["via-2049-bytes"] = Fails(
            Pre.Duplex("net.tcp://localhost/" + new string('a', 2049 - 20)), PreambleError.ViaTooLong, Head.Length + 1 + 2),
        ["via-length-int-max"] = Fails(Bytes.Concat(Head, Bytes.Hex("02 FF FF FF FF 07"), Rest), PreambleError.ViaTooLong, Head.Length + 6),
        ["via-length-six-bytes"] = Fails(Bytes.Concat(Head, Bytes.Hex("02 80 80 80 80 80 01"), Rest), PreambleError.IntegerTooLarge, Head.Length + 6),
        ["via-length-too-large"] = Fails(Bytes.Concat(Head, Bytes.Hex("02 FF FF FF FF 08"), Rest), PreambleError.IntegerTooLarge, Head.Length + 6),
        ["via-invalid-utf8"] = ViaFails(Bytes.Concat(Bytes.Utf8("net.tcp://x/"), [0xFF]), PreambleError.InvalidVia),
        ["via-truncated-utf8-sequence"] = ViaFails(Bytes.Concat(Bytes.Utf8("net.tcp://x/"), [0xE6, 0x97]), PreambleError.InvalidVia),
        ["via-not-a-uri"] = ViaFails(Bytes.Utf8("not a uri"), PreambleError.InvalidVia),
        ["via-relative-path"] = ViaFails(Bytes.Utf8("/svc/Echo"), PreambleError.InvalidVia),
        ["via-leading-space"] = ViaFails(Bytes.Utf8(" net.tcp://localhost/svc"), PreambleError.InvalidVia),
        ["via-empty"] = ViaFails([], PreambleError.InvalidVia),
        ["envelope-instead-of-encoding"] = Fails(Bytes.Concat(HeadVia, Bytes.Hex("06 01 AA")), PreambleError.UnexpectedRecord, HeadVia.Length + 1),
        ["content-type-257-bytes"] = Fails(
            Bytes.Concat(HeadVia, Pre.Extensible(new string('c', 257)), Pre.End), PreambleError.ContentTypeTooLong, HeadVia.Length + 3),
        ["content-type-invalid-utf8"] = Fails(
            Bytes.Concat(HeadVia, Bytes.StringRecord(0x04, [0x61, 0xC3, 0x28]), Pre.End), PreambleError.InvalidContentType, HeadVia.Length + 5, FramingFaults.ContentTypeInvalid),
        ["content-type-length-too-large"] = Fails(
            Bytes.Concat(HeadVia, Bytes.Hex("04 80 80 80 80 10"), Pre.End), PreambleError.IntegerTooLarge, HeadVia.Length + 6),
        ["envelope-before-preamble-end"] = Fails(Bytes.Concat(HeadViaEncoding, Bytes.Hex("06 01 AA 0C")), PreambleError.UnexpectedRecord, HeadViaEncoding.Length + 1),
        ["second-encoding"] = Fails(Bytes.Concat(HeadViaEncoding, Rest), PreambleError.UnexpectedRecord, HeadViaEncoding.Length + 1),
        ["preamble-ack-from-client"] = Fails(Bytes.Concat(HeadViaEncoding, [0x0B]), PreambleError.UnexpectedRecord, HeadViaEncoding.Length + 1),
        ["upgrade-name-invalid-utf8"] = Fails(
            Bytes.Concat(HeadViaEncoding, Bytes.StringRecord(0x09, [0xC0, 0x80]), Pre.End), PreambleError.InvalidUpgrade, HeadViaEncoding.Length + 4),
        ["upgrade-name-too-long"] = Fails(
            Bytes.Concat(HeadViaEncoding, Pre.Upgrade(new string('u', 257)), Pre.End), PreambleError.InvalidUpgrade, HeadViaEncoding.Length + 3),
        ["upgrade-length-too-large"] = Fails(
            Bytes.Concat(HeadViaEncoding, Bytes.Hex("09 FF FF FF FF FF"), Pre.End), PreambleError.IntegerTooLarge, HeadViaEncoding.Length + 6),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Malformed_preamble_fails_with_its_error_and_fault(string name)
    {
        var c = Cases[name];
        var decoder = new PreambleDecoder();

        int consumed = decoder.Decode(c.Data);

        Assert.Equal(PreambleStage.Failed, decoder.Stage);
        Assert.Equal(c.Error, decoder.Error);
        Assert.Equal(c.Fault, decoder.FaultFor);
        Assert.Equal(c.Consumed, consumed);
        Assert.True(decoder.IsFinished);

        // A failed decoder is inert.
        Assert.Equal(0, decoder.Decode(c.Data));
        Assert.Equal(PreambleStage.Failed, decoder.Stage);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Malformed_preamble_fails_identically_at_every_split_point(string name)
    {
        var c = Cases[name];
        var expected = PreambleFeeder.Feed(c.Data, Splits.Whole(c.Data.Length));
        foreach (var (split, ends) in Splits.All(c.Data.Length))
        {
            var outcome = PreambleFeeder.Feed(c.Data, ends);
            Assert.True(expected == outcome, $"{name} / {split}: expected {expected}, got {outcome}");
        }

        Assert.Equal(c.Error, expected.Error);
        Assert.Equal(c.Consumed, expected.Consumed);
    }

    [Fact]
    public void ViaTooLong_is_detected_before_any_via_byte_arrives()
    {
        var decoder = new PreambleDecoder();
        var data = Bytes.Concat(Head, [0x02], Bytes.MbInt(2049));

        Assert.Equal(data.Length, decoder.Decode(data));
        Assert.Equal(PreambleError.ViaTooLong, decoder.Error);
        Assert.Null(decoder.FaultFor);
        Assert.Null(decoder.Via);
    }

    [Fact]
    public void ContentTypeTooLong_closes_without_a_fault()
    {
        var decoder = new PreambleDecoder();
        decoder.Decode(Bytes.Concat(HeadVia, [0x04], Bytes.MbInt(257)));

        Assert.Equal(PreambleError.ContentTypeTooLong, decoder.Error);
        Assert.Null(decoder.FaultFor);
    }

    [Fact]
    public void Reset_recovers_a_failed_decoder()
    {
        var decoder = new PreambleDecoder();
        decoder.Decode(Pre.Version(9, 9));
        Assert.Equal(PreambleStage.Failed, decoder.Stage);

        decoder.Reset();
        Assert.Equal(PreambleError.None, decoder.Error);
        Assert.Null(decoder.FaultFor);
        var data = Pre.Duplex();
        Assert.Equal(data.Length, decoder.Decode(data));
        Assert.Equal(PreambleStage.Complete, decoder.Stage);
    }

    [Fact]
    public void FaultFor_maps_every_error()
    {
        // Only these three errors deserve a fault; the rest are answered by closing the connection.
        var withFault = new Dictionary<PreambleError, string>
        {
            [PreambleError.UnsupportedVersion] = FramingFaults.UnsupportedVersion,
            [PreambleError.UnsupportedMode] = FramingFaults.UnsupportedMode,
            [PreambleError.InvalidContentType] = FramingFaults.ContentTypeInvalid,
        };
        var seen = new HashSet<PreambleError>(Cases.Values.Select(c => c.Error));
        foreach (var error in Enum.GetValues<PreambleError>().Where(e => e != PreambleError.None))
        {
            Assert.Contains(error, seen); // every error has at least one malformed case above
        }

        foreach (var c in Cases.Values)
        {
            Assert.Equal(withFault.GetValueOrDefault(c.Error), c.Fault);
        }
    }
}
