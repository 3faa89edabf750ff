using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Protocol.Tests.Framing;

/// <summary>Hand-built preamble records (independent of FramingWriter, so the writer is tested against them).</summary>
internal static class Pre
{
    public const string EchoVia = "net.tcp://localhost:9000/svc/Echo";
    public const string BinarySession = "application/soap+msbinsession1";

    public static byte[] Version10 => [0x00, 0x01, 0x00];

    public static byte[] Version(byte major, byte minor) => [0x00, major, minor];

    public static byte[] Mode(FramingMode mode) => [0x01, (byte)mode];

    public static byte[] RawMode(byte mode) => [0x01, mode];

    public static byte[] Via(string via) => Bytes.StringRecord(0x02, Bytes.Utf8(via));

    public static byte[] Known(byte id) => [0x03, id];

    public static byte[] Extensible(string contentType) => Bytes.StringRecord(0x04, Bytes.Utf8(contentType));

    public static byte[] Upgrade(string name) => Bytes.StringRecord(0x09, Bytes.Utf8(name));

    public static byte[] End => [0x0C];

    /// <summary>A typical Duplex preamble with the binary session encoding.</summary>
    public static byte[] Duplex(string via = EchoVia) =>
        Bytes.Concat(Version10, Mode(FramingMode.Duplex), Via(via), Known(0x08), End);
}
