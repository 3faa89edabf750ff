using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace AkkaPortShare.Protocol.Handover;

/// <summary>
/// Names the worker process that holds a reliable session, inside the session's own identifier, so that a connection
/// which reaches another worker of the same address can be passed to the right one without any directory. The key is
/// a hash of the worker's hand-over socket path (a per-process name the router already knows from its registration,
/// private to the host): the path itself never reaches a client, and the router finds the worker by the key alone.
/// A client can only name keys of sessions it was given, and a move only ever goes to a holder of the same address.
/// </summary>
internal readonly record struct SessionRouteKey(ulong Value)
{
    private const string UuidPrefix = "urn:uuid:";
    private const ulong KeyMask = 0x00FF_FFFF_FFFF_FFFFUL; // 56 bits: the last seven bytes of the UUID
    private const int Version = 8;                        // RFC 9562's custom UUID: WCF's own identifiers are version 4

    public static SessionRouteKey ForWorker(string handoverPath)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"akkaportshare-session-route:{handoverPath}"), hash);
        return new SessionRouteKey(BinaryPrimitives.ReadUInt64LittleEndian(hash) & KeyMask);
    }

    /// <summary>
    /// A new sequence identifier (<c>urn:uuid:</c>, as WCF's own): a version-8 UUID whose last seven bytes are this key
    /// and whose other bits are random, so that a client's own identifiers (version 4) are never read as naming a worker.
    /// </summary>
    public string NewSequenceId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes[..9]);
        bytes[6] = (byte)((Version << 4) | (bytes[6] & 0x0F)); // version: the high nibble of octet 6 (big-endian layout)
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));           // variant 10xx: octet 8
        Span<byte> key = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(key, Value & KeyMask);
        key[1..].CopyTo(bytes[9..]);
        return UuidPrefix + new Guid(bytes, bigEndian: true).ToString("D");
    }

    /// <summary>The key a sequence identifier carries if this software made it (any other identifier: false).</summary>
    public static bool TryReadFrom(string sequenceId, out SessionRouteKey key)
    {
        key = default;
        if (!sequenceId.StartsWith(UuidPrefix, StringComparison.OrdinalIgnoreCase)
            || !Guid.TryParseExact(sequenceId.AsSpan(UuidPrefix.Length), "D", out var guid)) return false;
        Span<byte> bytes = stackalloc byte[16];
        guid.TryWriteBytes(bytes, bigEndian: true, out _);
        if (bytes[6] >> 4 != Version || (bytes[8] & 0xC0) != 0x80) return false;
        Span<byte> value = stackalloc byte[8];
        bytes[9..].CopyTo(value[1..]);
        key = new SessionRouteKey(BinaryPrimitives.ReadUInt64BigEndian(value));
        return true;
    }

    public void WriteTo(Span<byte> destination) => BinaryPrimitives.WriteUInt64LittleEndian(destination, Value);

    public static SessionRouteKey ReadFrom(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt64LittleEndian(source));

    public override string ToString() => Value.ToString("x14");

    /// <summary>Reads <see cref="ToString"/>'s form (fourteen hexadecimal digits), as routers share it in a cluster.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out SessionRouteKey key)
    {
        key = default;
        if (text.Length != 14 || !ulong.TryParse(text, System.Globalization.NumberStyles.AllowHexSpecifier, null, out var value)) return false;
        key = new SessionRouteKey(value);
        return true;
    }
}
