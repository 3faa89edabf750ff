using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.Contracts.Registration;

/// <summary>
/// The wire form of <see cref="RegistryProtocol"/>, the only application messages that cross Akka.Remote between a
/// worker and the router. Each message has its own manifest and a compact binary body (a version byte, then its
/// fields in order: strings as a length-prefixed UTF-8 run, at most <see cref="MaxStringBytes"/>). Nothing else is
/// read: no type names travel, so a peer cannot make the reader build a type of its choosing.
/// </summary>
internal sealed class RegistryProtocolSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka reserves 0–40; this one is the shared port's number.</summary>
    public const int SerializerId = 8808;

    /// <summary>
    /// Longest string field in UTF-8 bytes. The registry refuses base addresses over 2048 bytes with PathTooLong, so
    /// this leaves room for that answer (and a refusal message that quotes it) while bounding what a peer can make
    /// the reader allocate.
    /// </summary>
    public const int MaxStringBytes = 8192;

    private const byte Version = 1;
    private const string RegisterManifest = "R";
    private const string UnregisterManifest = "U";
    private const string RegisteredManifest = "RD";
    private const string AdmissionStartedManifest = "AS";
    private const string UnregisteredManifest = "UD";
    private const string RefusedManifest = "RF";
    private const string ConnectionLoadManifest = "CL";
    private const string FindSessionHolderManifest = "FH";
    private const string SessionHolderManifest = "SH";

    /// <summary>Every manifest this serializer reads, for the router's list of what it lets in.</summary>
    public static IReadOnlyCollection<string> Manifests { get; } =
        [RegisterManifest, UnregisterManifest, RegisteredManifest, AdmissionStartedManifest, UnregisteredManifest, RefusedManifest,
            ConnectionLoadManifest, FindSessionHolderManifest, SessionHolderManifest];

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o switch
    {
        Register => RegisterManifest,
        Unregister => UnregisterManifest,
        Registered => RegisteredManifest,
        AdmissionStarted => AdmissionStartedManifest,
        Unregistered => UnregisteredManifest,
        RegistrationRefused => RefusedManifest,
        ConnectionLoad => ConnectionLoadManifest,
        FindSessionHolder => FindSessionHolderManifest,
        SessionHolder => SessionHolderManifest,
        _ => throw new SerializationException($"{nameof(RegistryProtocolSerializer)} cannot write {o.GetType()}"),
    };

    public override byte[] ToBinary(object obj)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Version);
            switch (obj)
            {
                case Register r:
                    WriteString(w, r.BaseAddress);
                    WriteEndpoint(w, r.Worker);
                    WriteString(w, r.Secret);
                    WriteString(w, r.ChannelToken);
                    // Only when set: a router from before sharing reads a non-sharing worker's Register as ever.
                    if (r.Shared) w.Write(true);
                    break;
                case ConnectionLoad l:
                    w.Write(l.OpenConnections);
                    WriteString(w, l.Secret);
                    WriteString(w, l.ChannelToken);
                    break;
                case FindSessionHolder f:
                    w.Write(f.RequestId);
                    WriteString(w, f.BaseAddress);
                    WriteString(w, f.SessionKey);
                    WriteString(w, f.Secret);
                    WriteString(w, f.ChannelToken);
                    break;
                case SessionHolder h:
                    w.Write(h.RequestId);
                    WriteString(w, h.DataHost);
                    w.Write(h.DataPort);
                    break;
                case Unregister u:
                    WriteString(w, u.BaseAddress);
                    WriteString(w, u.Secret);
                    WriteString(w, u.ChannelToken);
                    break;
                case Registered r:
                    WriteString(w, r.BaseAddress);
                    WriteString(w, r.HandoverMode);
                    break;
                case AdmissionStarted a:
                    WriteString(w, a.BaseAddress);
                    w.Write(a.RouterProcessId);
                    w.Write(a.RouterUserId);
                    break;
                case Unregistered u:
                    WriteString(w, u.BaseAddress);
                    break;
                case RegistrationRefused r:
                    WriteString(w, r.BaseAddress);
                    w.Write((int)r.Reason);
                    WriteString(w, r.Message);
                    break;
                default:
                    throw new SerializationException($"{nameof(RegistryProtocolSerializer)} cannot write {obj.GetType()}");
            }
        }
        return buffer.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
            if (r.ReadByte() != Version) throw new SerializationException("Unknown registry protocol version");
            object message = manifest switch
            {
                RegisterManifest => new Register(ReadRequired(r), ReadEndpoint(r), ReadString(r), ReadString(r), ReadOptionalFlag(r)),
                ConnectionLoadManifest => new ConnectionLoad(ReadCount(r), ReadString(r), ReadString(r)),
                FindSessionHolderManifest => new FindSessionHolder(r.ReadInt64(), ReadRequired(r), ReadRequired(r), ReadString(r), ReadString(r)),
                SessionHolderManifest => new SessionHolder(r.ReadInt64(), ReadString(r), r.ReadInt32()),
                UnregisterManifest => new Unregister(ReadRequired(r), ReadString(r), ReadString(r)),
                RegisteredManifest => new Registered(ReadRequired(r), ReadRequired(r)),
                AdmissionStartedManifest => new AdmissionStarted(ReadRequired(r), r.ReadInt32(), r.ReadUInt32()),
                UnregisteredManifest => new Unregistered(ReadRequired(r)),
                RefusedManifest => new RegistrationRefused(ReadRequired(r), ReadReason(r), ReadRequired(r)),
                _ => throw new SerializationException($"Unknown registry protocol manifest [{Printable(manifest)}]"),
            };
            if (r.BaseStream.Position != bytes.Length)
                throw new SerializationException($"Registry protocol message [{manifest}] has trailing bytes");
            return message;
        }
        catch (EndOfStreamException)
        {
            throw new SerializationException($"Registry protocol message [{Printable(manifest)}] is truncated");
        }
    }

    private static void WriteEndpoint(BinaryWriter w, WorkerEndpoint endpoint)
    {
        w.Write(endpoint.ProcessId);
        WriteString(w, endpoint.HostName);
        WriteString(w, endpoint.HandoverPath);
        WriteString(w, endpoint.DataHost);
        w.Write(endpoint.DataPort);
    }

    private static WorkerEndpoint ReadEndpoint(BinaryReader r) =>
        new(r.ReadInt32(), ReadRequired(r), ReadString(r), ReadRequired(r), r.ReadInt32());

    // A trailing flag that older writers leave out; any byte but 1 is refused.
    private static bool ReadOptionalFlag(BinaryReader r)
    {
        if (r.BaseStream.Position == r.BaseStream.Length) return false;
        var flag = r.ReadByte();
        return flag <= 1 ? flag == 1 : throw new SerializationException($"A registry protocol flag of value {flag}");
    }

    private static int ReadCount(BinaryReader r)
    {
        var count = r.ReadInt32();
        return count >= 0 ? count : throw new SerializationException($"A negative registry protocol count {count}");
    }

    private static RefusalReason ReadReason(BinaryReader r)
    {
        var reason = (RefusalReason)r.ReadInt32();
        return Enum.IsDefined(reason) ? reason : throw new SerializationException($"Unknown refusal reason {(int)reason}");
    }

    // Length -1 is null. Written strings are bounded too: a message the peer would refuse is better not sent.
    private static void WriteString(BinaryWriter w, string? value)
    {
        if (value is null)
        {
            w.Write(-1);
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length > MaxStringBytes)
            throw new SerializationException($"A registry protocol string of {bytes.Length} bytes is over the limit of {MaxStringBytes}");
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static string ReadRequired(BinaryReader r) =>
        ReadString(r) ?? throw new SerializationException("A required registry protocol string is missing");

    private static string? ReadString(BinaryReader r)
    {
        var length = r.ReadInt32();
        if (length == -1) return null;
        if (length < 0 || length > MaxStringBytes)
            throw new SerializationException($"A registry protocol string of {length} bytes is over the limit of {MaxStringBytes}");
        var bytes = r.ReadBytes(length);
        if (bytes.Length != length) throw new EndOfStreamException();
        return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
    }

    /// <summary>A manifest from the network, safe to put in a log line.</summary>
    public static string Printable(string manifest) =>
        manifest.Length <= 64 && manifest.All(c => c is >= ' ' and <= '~') ? manifest : $"({manifest.Length} chars, not printable)";
}
