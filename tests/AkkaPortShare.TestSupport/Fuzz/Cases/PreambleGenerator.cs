using System.Text;
using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.TestSupport.Fuzz.Cases;

/// <summary>
/// Generates client preambles, valid and broken in every way the framing allows (truncated, wrong versions and
/// modes, unknown records, oversized integers, vias and content types too long or not UTF-8, upgrades, random
/// bytes), each with the decoder verdict it was built to produce. Deterministic for a given <see cref="Random"/>.
/// </summary>
public sealed class PreambleGenerator(FuzzTarget target)
{
    private static readonly string[] Kinds =
    [
        "valid", "valid", "valid", "valid", "simplex-or-sized", "truncated", "truncated", "bad-version", "bad-mode",
        "unexpected-record", "unexpected-record", "oversized-int", "via-too-long", "via-max-size", "via-invalid-utf8",
        "via-not-absolute", "content-type-invalid-utf8", "content-type-too-long", "upgrade-invalid", "random", "random",
        "empty",
    ];

    private static readonly string[] Hosts =
        ["localhost", "LOCALHOST", "127.0.0.1", "[::1]", "example.com", "xn--bcher-kva.example", "10.0.0.1", "h", "Localhost."];

    private static readonly string[] Segments =
        ["fuzz", "FUZZ", "Fuzz", "fuzzy", "other", "a", "b", "svc", "echo", "x%20y", "%41", "é", "日本", "..", ".", "~u", "a;b", "s p"];

    private static readonly string[] Schemes = ["net.tcp", "net.tcp", "net.tcp", "net.tcp", "NET.TCP", "http", "https"];

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xFF], [0x80], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xC3], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ];

    // 5-byte encodings the decoder must refuse: the fifth byte carries more than 31 bits, or asks for a sixth byte.
    private static readonly byte[][] InvalidMultiByteInts =
    [
        [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x80, 0x80, 0x80, 0x80, 0x10], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [0x80, 0x80, 0x80, 0x80, 0x80],
    ];

    public FuzzTarget Target { get; } = target;

    public PreambleCase Next(long index, Random random)
    {
        var kind = Kinds[random.Next(Kinds.Length)];
        var (bytes, verdict) = kind switch
        {
            "valid" => Valid(random),
            "simplex-or-sized" => SimplexOrSized(random),
            "truncated" => Truncated(random),
            "bad-version" => BadVersion(random),
            "bad-mode" => BadMode(random),
            "unexpected-record" => UnexpectedRecord(random),
            "oversized-int" => OversizedInt(random),
            "via-too-long" => ViaTooLong(random),
            "via-max-size" => ViaMaxSize(random),
            "via-invalid-utf8" => ViaInvalidUtf8(random),
            "via-not-absolute" => ViaNotAbsolute(random),
            "content-type-invalid-utf8" => ContentTypeInvalidUtf8(random),
            "content-type-too-long" => ContentTypeTooLong(random),
            "upgrade-invalid" => UpgradeInvalid(random),
            "random" => (RandomBytes(random), (DecoderVerdict?)null),
            _ => ([], new DecoderVerdict(PreambleStage.Version, PreambleError.None)),
        };
        return new PreambleCase(index, kind, bytes, verdict);
    }

    /// <summary>A via a client might send: mostly net.tcp on the shared port, now and then for the fuzz worker.</summary>
    public string Via(Random random)
    {
        var scheme = Pick(random, Schemes);
        var host = Pick(random, Hosts);
        var port = random.Next(6) switch
        {
            0 => "",
            1 => ":808",
            2 => $":{FuzzTarget.ViaPort + 1}",
            _ => $":{FuzzTarget.ViaPort}",
        };
        var path = new StringBuilder();
        if (random.Next(4) == 0) path.Append(Target.RegisteredPath);
        for (int i = 0, n = random.Next(5); i < n; i++) path.Append(Pick(random, Segments)).Append(random.Next(3) == 0 ? "" : "/");
        if (random.Next(10) == 0) path.Append("?q=").Append(random.Next(1000));
        if (random.Next(20) == 0) path.Append("#f");
        return $"{scheme}://{host}{port}/{path}";
    }

    private (byte[], DecoderVerdict?) Valid(Random random)
    {
        var mode = random.Next(3) == 0 ? FramingMode.Singleton : FramingMode.Duplex;
        var b = Start(random, mode, Utf8(Via(random)));
        Encoding(random, b);
        if (random.Next(4) == 0)
        {
            // Decode stops right after an UpgradeRequest: the bytes behind it belong to the upgrade.
            for (int i = 0, n = 1 + random.Next(2); i < n; i++) b.Upgrade(Utf8(random.Next(2) == 0 ? "application/ssl-tls" : "application/negotiate"));
            b.End();
            return (b.ToArray(), new DecoderVerdict(PreambleStage.AfterEncoding, PreambleError.None));
        }
        if (random.Next(10) == 0) return (b.ToArray(), new DecoderVerdict(PreambleStage.AfterEncoding, PreambleError.None));
        b.End();
        if (random.Next(5) == 0) b.Raw(SizedEnvelope(random)); // what a client sends next; never part of the preamble
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Complete, PreambleError.None));
    }

    private (byte[], DecoderVerdict?) SimplexOrSized(Random random)
    {
        var mode = random.Next(2) == 0 ? FramingMode.Simplex : FramingMode.SingletonSized;
        var b = Start(random, mode, Utf8(Via(random)));
        Encoding(random, b);
        if (random.Next(3) == 0) b.Raw(SizedEnvelope(random));
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Complete, PreambleError.None));
    }

    private (byte[], DecoderVerdict?) Truncated(Random random)
    {
        var mode = (FramingMode)(1 + random.Next(4));
        var b = Start(random, mode, Utf8(Via(random)));
        Encoding(random, b, mode);
        if (mode is FramingMode.Duplex or FramingMode.Singleton) b.End();
        var cut = random.Next(b.Length);
        return (b.ToArray()[..cut], new DecoderVerdict(b.StageAfter(cut), PreambleError.None));
    }

    private (byte[], DecoderVerdict?) BadVersion(Random random)
    {
        var major = (byte)random.Next(256);
        if (major == 1) major = 2;
        var b = new PreambleBuilder().Version(major, (byte)random.Next(256));
        if (random.Next(2) == 0) b.Mode(FramingMode.Duplex).Via(Utf8(Via(random))).Known(KnownEncodings.BinarySession).End();
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Failed, PreambleError.UnsupportedVersion));
    }

    private (byte[], DecoderVerdict?) BadMode(Random random)
    {
        var mode = (byte)random.Next(256);
        if (mode is >= 1 and <= 4) mode = (byte)(5 + random.Next(251));
        var b = new PreambleBuilder().Version(1, 0).ModeByte(mode);
        if (random.Next(2) == 0) b.Via(Utf8(Via(random))).Known(KnownEncodings.BinarySession).End();
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Failed, PreambleError.UnsupportedMode));
    }

    private (byte[], DecoderVerdict?) UnexpectedRecord(Random random)
    {
        // A record type other than the ones allowed at one of the five record boundaries.
        var mode = random.Next(2) == 0 ? FramingMode.Duplex : FramingMode.Singleton;
        var at = random.Next(5);
        var b = new PreambleBuilder();
        byte[] allowed = at switch { 0 => [0x00], 1 => [0x01], 2 => [0x02], 3 => [0x03, 0x04], _ => [0x09, 0x0C] };
        if (at > 0) b.Version(1, (byte)random.Next(3));
        if (at > 1) b.Mode(mode);
        if (at > 2) b.Via(Utf8(Via(random)));
        if (at > 3) Encoding(random, b);
        byte wrong;
        do wrong = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)random.Next(0x0D); while (allowed.Contains(wrong));
        b.Raw([wrong]);
        if (random.Next(2) == 0) b.Raw(RandomBytes(random, 32));
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Failed, PreambleError.UnexpectedRecord));
    }

    private (byte[], DecoderVerdict?) OversizedInt(Random random)
    {
        var size = Pick(random, InvalidMultiByteInts);
        var b = Start(random, FramingMode.Duplex, null);
        switch (random.Next(3))
        {
            case 0:
                b.Raw([(byte)FramingRecordType.Via]).Raw(size);
                break;
            case 1:
                b.Via(Utf8(Via(random))).Raw([(byte)FramingRecordType.ExtensibleEncoding]).Raw(size);
                break;
            default:
                b.Via(Utf8(Via(random))).Known(KnownEncodings.BinarySession).Raw([(byte)FramingRecordType.UpgradeRequest]).Raw(size);
                break;
        }
        if (random.Next(2) == 0) b.Raw(RandomBytes(random, 64));
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Failed, PreambleError.IntegerTooLarge));
    }

    private (byte[], DecoderVerdict?) ViaTooLong(Random random)
    {
        var b = Start(random, FramingMode.Duplex, null);
        var length = random.Next(4) == 0 ? int.MaxValue : Target.MaxViaSize + 1 + random.Next(1000);
        var body = new byte[Math.Min(length, random.Next(2) == 0 ? 0 : Target.MaxViaSize + 200)];
        Encoding8(body, $"net.tcp://localhost:{FuzzTarget.ViaPort}/{Target.RegisteredPath}", (byte)'v');
        b.StringRecord(FramingRecordType.Via, body, declaredLength: length);
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Failed, PreambleError.ViaTooLong));
    }

    private (byte[], DecoderVerdict?) ViaMaxSize(Random random)
    {
        // Exactly max-via-size bytes is still valid; one more is not (the quota is inclusive).
        var over = random.Next(2) == 0;
        var body = new byte[Target.MaxViaSize + (over ? 1 : 0)];
        Encoding8(body, $"net.tcp://localhost:{FuzzTarget.ViaPort}/{(random.Next(2) == 0 ? Target.RegisteredPath : "other/")}", (byte)'m');
        var b = Start(random, FramingMode.Duplex, body);
        if (over) return (b.ToArray(), new DecoderVerdict(PreambleStage.Failed, PreambleError.ViaTooLong));
        b.Known(KnownEncodings.BinarySession).End();
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Complete, PreambleError.None));
    }

    private (byte[], DecoderVerdict?) ViaInvalidUtf8(Random random)
    {
        var via = Utf8(Via(random)).ToList();
        via.InsertRange(random.Next(via.Count + 1), Pick(random, InvalidUtf8));
        var b = Start(random, FramingMode.Duplex, via.ToArray());
        b.Known(KnownEncodings.BinarySession).End();
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Failed, PreambleError.InvalidVia));
    }

    private (byte[], DecoderVerdict?) ViaNotAbsolute(Random random)
    {
        string[] relative = ["", "relative", "/fuzz/svc", "fuzz/svc", " net.tcp://localhost/fuzz/", "//localhost/fuzz", "net.tcp//localhost/", "1tcp://x/", "\tnet.tcp://x/"];
        var b = Start(random, random.Next(2) == 0 ? FramingMode.Duplex : FramingMode.Singleton, Utf8(Pick(random, relative)));
        b.Known(KnownEncodings.BinarySession).End();
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Failed, PreambleError.InvalidVia));
    }

    private (byte[], DecoderVerdict?) ContentTypeInvalidUtf8(Random random)
    {
        var type = Utf8("application/soap+xml; charset=utf-8").ToList();
        type.InsertRange(random.Next(type.Count + 1), Pick(random, InvalidUtf8));
        var b = Start(random, FramingMode.Duplex, Utf8(Via(random)));
        b.StringRecord(FramingRecordType.ExtensibleEncoding, type.ToArray()).End();
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Failed, PreambleError.InvalidContentType));
    }

    private (byte[], DecoderVerdict?) ContentTypeTooLong(Random random)
    {
        var length = Target.MaxContentTypeSize + 1 + random.Next(300);
        var b = Start(random, FramingMode.Duplex, Utf8(Via(random)));
        var body = new byte[random.Next(2) == 0 ? length : 0];
        Encoding8(body, "text/x", (byte)'t');
        b.StringRecord(FramingRecordType.ExtensibleEncoding, body, declaredLength: length);
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Failed, PreambleError.ContentTypeTooLong));
    }

    private (byte[], DecoderVerdict?) UpgradeInvalid(Random random)
    {
        var b = Start(random, FramingMode.Duplex, Utf8(Via(random)));
        Encoding(random, b);
        if (random.Next(2) == 0)
        {
            var length = Target.MaxContentTypeSize + 1 + random.Next(100);
            b.StringRecord(FramingRecordType.UpgradeRequest, new byte[random.Next(2) == 0 ? length : 0], declaredLength: length);
        }
        else
        {
            var name = Utf8("application/ssl-tls").ToList();
            name.InsertRange(random.Next(name.Count + 1), Pick(random, InvalidUtf8));
            b.StringRecord(FramingRecordType.UpgradeRequest, name.ToArray());
        }
        b.End();
        return (b.ToArray(), new DecoderVerdict(PreambleStage.Failed, PreambleError.InvalidUpgrade));
    }

    private static byte[] RandomBytes(Random random, int max = 600)
    {
        var bytes = new byte[random.Next(max + 1)];
        random.NextBytes(bytes);
        // A third of them start like a preamble, so the decoder gets past the first byte.
        if (bytes.Length >= 5 && random.Next(3) == 0) new byte[] { 0x00, 0x01, 0x00, 0x01, (byte)(1 + random.Next(4)) }.CopyTo(bytes, 0);
        return bytes;
    }

    private PreambleBuilder Start(Random random, FramingMode mode, byte[]? via)
    {
        var b = new PreambleBuilder().Version(1, (byte)(random.Next(4) == 0 ? random.Next(256) : 0)).Mode(mode);
        if (via is not null) b.Via(via);
        return b;
    }

    private static void Encoding(Random random, PreambleBuilder b, FramingMode? mode = null)
    {
        switch (random.Next(6))
        {
            case 0:
                b.Known((byte)random.Next(256), mode); // an unknown id is valid: judging it is the service's job
                break;
            case 1:
                b.StringRecord(FramingRecordType.ExtensibleEncoding,
                    Utf8(random.Next(2) == 0 ? "application/soap+xml; charset=utf-8" : "text/é-" + random.Next(100)), mode: mode);
                break;
            case 2:
                b.StringRecord(FramingRecordType.ExtensibleEncoding, new byte[random.Next(2) == 0 ? 0 : 256].Select(_ => (byte)'c').ToArray(), mode: mode);
                break;
            default:
                b.Known((byte)random.Next(KnownEncodings.Count), mode);
                break;
        }
    }

    private static byte[] SizedEnvelope(Random random)
    {
        var payload = new byte[random.Next(64)];
        random.NextBytes(payload);
        var header = new byte[FramingWriter.MaxSizedEnvelopeHeaderSize];
        var n = FramingWriter.WriteSizedEnvelopeHeader(header, payload.Length);
        return [.. header.AsSpan(0, n), .. payload, (byte)FramingRecordType.End];
    }

    // Fills a buffer with a prefix, then padding (an ASCII path character).
    private static void Encoding8(byte[] body, string prefix, byte pad)
    {
        var p = Utf8(prefix);
        for (var i = 0; i < body.Length; i++) body[i] = i < p.Length ? p[i] : pad;
    }

    private static byte[] Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];
}

/// <summary>
/// Writes preamble records and remembers, for every byte, the decoder's stage once that byte is consumed, so a
/// preamble cut anywhere has a known verdict (the generator's own model of the record grammar, not the decoder's).
/// </summary>
internal sealed class PreambleBuilder
{
    private readonly List<byte> _bytes = [];
    private readonly List<PreambleStage> _stageAfter = [];
    private FramingMode _mode = FramingMode.Duplex;

    public int Length => _bytes.Count;

    public PreambleStage StageAfter(int consumed) => consumed == 0 ? PreambleStage.Version : _stageAfter[consumed - 1];

    public byte[] ToArray() => [.. _bytes];

    public PreambleBuilder Version(byte major, byte minor) =>
        Add([(byte)FramingRecordType.Version, major, minor], PreambleStage.Version, PreambleStage.Mode);

    public PreambleBuilder Mode(FramingMode mode)
    {
        _mode = mode;
        return ModeByte((byte)mode);
    }

    public PreambleBuilder ModeByte(byte mode) => Add([(byte)FramingRecordType.Mode, mode], PreambleStage.Mode, PreambleStage.Via);

    public PreambleBuilder Via(byte[] via) => StringRecord(FramingRecordType.Via, via);

    public PreambleBuilder Known(byte id, FramingMode? mode = null) =>
        Add([(byte)FramingRecordType.KnownEncoding, id], PreambleStage.Encoding, AfterEncoding(mode));

    public PreambleBuilder Upgrade(byte[] name) => StringRecord(FramingRecordType.UpgradeRequest, name);

    public PreambleBuilder End() => Add([(byte)FramingRecordType.PreambleEnd], PreambleStage.AfterEncoding, PreambleStage.Complete);

    /// <summary>Bytes whose stage does not matter (after the verdict, or the offending bytes themselves).</summary>
    public PreambleBuilder Raw(ReadOnlySpan<byte> bytes) => Add(bytes, PreambleStage.Failed, PreambleStage.Failed);

    public PreambleBuilder StringRecord(FramingRecordType type, byte[] body, int? declaredLength = null, FramingMode? mode = null)
    {
        var length = new byte[MultiByteInt.MaxEncodedSize];
        var n = MultiByteInt.Write(length, declaredLength ?? body.Length);
        var (inside, after) = type switch
        {
            FramingRecordType.Via => (PreambleStage.Via, PreambleStage.Encoding),
            FramingRecordType.ExtensibleEncoding => (PreambleStage.Encoding, AfterEncoding(mode)),
            _ => (PreambleStage.AfterEncoding, PreambleStage.AfterEncoding),
        };
        return Add([(byte)type, .. length.AsSpan(0, n), .. body], inside, after);
    }

    private PreambleStage AfterEncoding(FramingMode? mode) =>
        (mode ?? _mode) is FramingMode.Simplex or FramingMode.SingletonSized ? PreambleStage.Complete : PreambleStage.AfterEncoding;

    private PreambleBuilder Add(ReadOnlySpan<byte> bytes, PreambleStage inside, PreambleStage after)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            _bytes.Add(bytes[i]);
            _stageAfter.Add(i == bytes.Length - 1 ? after : inside);
        }
        return this;
    }
}
