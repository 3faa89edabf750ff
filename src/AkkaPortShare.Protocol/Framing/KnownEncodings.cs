namespace AkkaPortShare.Protocol.Framing;

/// <summary>
/// The nine content types that have a one-byte id in the KnownEncoding record. Any other content type travels
/// as an ExtensibleEncoding record, so a lookup here is always an exact (ordinal) string comparison: that is
/// how WCF clients pick between the two records.
/// </summary>
public static class KnownEncodings
{
    public const byte Soap11Utf8 = 0x00;
    public const byte Soap11Utf16 = 0x01;
    public const byte Soap11UnicodeFffe = 0x02;
    public const byte Soap12Utf8 = 0x03;
    public const byte Soap12Utf16 = 0x04;
    public const byte Soap12UnicodeFffe = 0x05;
    public const byte Mtom = 0x06;
    public const byte Binary = 0x07;
    /// <summary>The encoding NetTcpBinding uses for sessions: on the wire <c>03 08</c>.</summary>
    public const byte BinarySession = 0x08;

    /// <summary>Content type of <see cref="BinarySession"/>.</summary>
    public const string BinarySessionContentType = "application/soap+msbinsession1";

    // Indexed by id; the array is private so nobody can mutate the table.
    private static readonly string[] ContentTypes =
    [
        "text/xml; charset=utf-8",
        "text/xml; charset=utf16",
        "text/xml; charset=unicodeFFFE",
        "application/soap+xml; charset=utf-8",
        "application/soap+xml; charset=utf16",
        "application/soap+xml; charset=unicodeFFFE",
        "multipart/related",
        "application/soap+msbin1",
        BinarySessionContentType,
    ];

    /// <summary>Number of known ids (they are 0 .. Count-1).</summary>
    public static int Count => ContentTypes.Length;

    /// <summary>The content type for a known id, or null for an id outside the table.</summary>
    public static string? ContentTypeOf(byte id) => id < ContentTypes.Length ? ContentTypes[id] : null;

    /// <summary>Finds the id of a content type by exact ordinal match (no case folding, no parameter parsing).</summary>
    public static bool TryGetId(string contentType, out byte id)
    {
        ArgumentNullException.ThrowIfNull(contentType);
        for (int i = 0; i < ContentTypes.Length; i++)
        {
            if (string.Equals(ContentTypes[i], contentType, StringComparison.Ordinal))
            {
                id = (byte)i;
                return true;
            }
        }

        id = 0;
        return false;
    }
}
