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

    public static SessionRouteKey ForWorker(string handoverPath)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"akkaportshare-session-route:{handoverPath}"), hash);
        return new SessionRouteKey(BinaryPrimitives.ReadUInt64LittleEndian(hash));
    }

    /// <summary>A new sequence identifier (<c>urn:uuid:</c>, as WCF's own) whose first eight bytes are this key.</summary>
    public string NewSequenceId()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, Value);
        RandomNumberGenerator.Fill(bytes[8..]);
        return UuidPrefix + new Guid(bytes).ToString("D");
    }

    /// <summary>The key a sequence identifier carries if it has the <c>urn:uuid:</c> form (any other identifier: false).</summary>
    public static bool TryReadFrom(string sequenceId, out SessionRouteKey key)
    {
        key = default;
        if (!sequenceId.StartsWith(UuidPrefix, StringComparison.OrdinalIgnoreCase)
            || !Guid.TryParseExact(sequenceId.AsSpan(UuidPrefix.Length), "D", out var guid)) return false;
        Span<byte> bytes = stackalloc byte[16];
        guid.TryWriteBytes(bytes);
        key = new SessionRouteKey(BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        return true;
    }

    public void WriteTo(Span<byte> destination) => BinaryPrimitives.WriteUInt64LittleEndian(destination, Value);

    public static SessionRouteKey ReadFrom(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt64LittleEndian(source));

    public override string ToString() => Value.ToString("x16");
}
