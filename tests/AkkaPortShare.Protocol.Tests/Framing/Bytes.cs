using System.Text;

namespace AkkaPortShare.Protocol.Tests.Framing;

/// <summary>Small helpers to build wire bytes readably in tests.</summary>
internal static class Bytes
{
    /// <summary>Parses "00 01 0A" style hex.</summary>
    public static byte[] Hex(string hex) =>
        Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Record type + minimal mbint length + body.</summary>
    public static byte[] StringRecord(byte type, byte[] body) =>
        Concat([type], MbInt(body.Length), body);

    public static byte[] MbInt(int value)
    {
        var buffer = new byte[AkkaPortShare.Protocol.Framing.MultiByteInt.MaxEncodedSize];
        int n = AkkaPortShare.Protocol.Framing.MultiByteInt.Write(buffer, value);
        return buffer[..n];
    }

    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);
}
