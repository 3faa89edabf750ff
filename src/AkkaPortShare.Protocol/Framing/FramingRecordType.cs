namespace AkkaPortShare.Protocol.Framing;

/// <summary>
/// The one-byte record type that starts every .NET Message Framing ([MC-NMF]) record.
/// The values are fixed by the wire protocol, so they must never be renumbered.
/// </summary>
public enum FramingRecordType : byte
{
    /// <summary>Body: major (1 byte) + minor (1 byte).</summary>
    Version = 0x00,
    /// <summary>Body: one <see cref="FramingMode"/> byte.</summary>
    Mode = 0x01,
    /// <summary>Body: mbint length + UTF-8 URI.</summary>
    Via = 0x02,
    /// <summary>Body: one encoding id (see <see cref="KnownEncodings"/>).</summary>
    KnownEncoding = 0x03,
    /// <summary>Body: mbint length + UTF-8 content type.</summary>
    ExtensibleEncoding = 0x04,
    /// <summary>Body: chunks (mbint n + n bytes)* ended by a zero-size chunk.</summary>
    UnsizedEnvelope = 0x05,
    /// <summary>Body: mbint n + n bytes.</summary>
    SizedEnvelope = 0x06,
    /// <summary>No body.</summary>
    End = 0x07,
    /// <summary>Body: mbint length + UTF-8 fault URI (see <see cref="FramingFaults"/>).</summary>
    Fault = 0x08,
    /// <summary>Body: mbint length + UTF-8 upgrade name, then the upgrade protocol's own bytes.</summary>
    UpgradeRequest = 0x09,
    /// <summary>No body; the upgrade protocol's own bytes follow.</summary>
    UpgradeResponse = 0x0A,
    /// <summary>No body.</summary>
    PreambleAck = 0x0B,
    /// <summary>No body.</summary>
    PreambleEnd = 0x0C,
}
