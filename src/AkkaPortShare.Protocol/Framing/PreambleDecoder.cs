namespace AkkaPortShare.Protocol.Framing;

/// <summary>
/// Server-side reader of the client preamble (Version, Mode, Via, encoding, then for Duplex/Singleton
/// UpgradeRequest* and PreambleEnd). Input may be split at any byte boundary; the decoder keeps partial records
/// internally and never consumes a byte beyond the preamble, so whatever follows (envelopes, or TLS bytes after an
/// UpgradeRequest) stays with the caller. One instance can be reused with <see cref="Reset"/>.
/// </summary>
public sealed class PreambleDecoder
{
    // Finer-grained than PreambleStage: the position inside the current record.
    private enum Step : byte
    {
        VersionRecord,
        VersionMajor,
        VersionMinor,
        ModeRecord,
        ModeValue,
        ViaRecord,
        ViaString,
        EncodingRecord,
        KnownEncodingId,
        ExtensibleEncodingString,
        UpgradeOrEndRecord,
        UpgradeName,
        Complete,
        Failed,
    }

    private readonly int _maxViaSize;
    private readonly int _maxContentTypeSize;
    private Step _step;
    private Utf8StringRecordReader _string; // only one string record is ever in progress at a time

    public PreambleDecoder(
        int maxViaSize = FramingLimits.DefaultMaxViaSize,
        int maxContentTypeSize = FramingLimits.DefaultMaxContentTypeSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxViaSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxContentTypeSize);
        _maxViaSize = maxViaSize;
        _maxContentTypeSize = maxContentTypeSize;
    }

    public int MaxViaSize => _maxViaSize;

    public int MaxContentTypeSize => _maxContentTypeSize;

    public PreambleStage Stage => _step switch
    {
        Step.VersionRecord or Step.VersionMajor or Step.VersionMinor => PreambleStage.Version,
        Step.ModeRecord or Step.ModeValue => PreambleStage.Mode,
        Step.ViaRecord or Step.ViaString => PreambleStage.Via,
        Step.EncodingRecord or Step.KnownEncodingId or Step.ExtensibleEncodingString => PreambleStage.Encoding,
        Step.UpgradeOrEndRecord or Step.UpgradeName => PreambleStage.AfterEncoding,
        Step.Complete => PreambleStage.Complete,
        _ => PreambleStage.Failed,
    };

    /// <summary>Valid once <see cref="Stage"/> is past <see cref="PreambleStage.Mode"/>.</summary>
    public FramingMode Mode { get; private set; }

    public int MajorVersion { get; private set; }

    public int MinorVersion { get; private set; }

    /// <summary>The via exactly as sent (not normalised), once the Via record is complete and valid.</summary>
    public string? Via { get; private set; }

    /// <summary>
    /// The content type once the encoding record is complete. An id outside the known table yields
    /// <c>unknown&lt;N&gt;</c> (as WCF does): judging the content type is the service's job, not the preamble's.
    /// </summary>
    public string? ContentType { get; private set; }

    /// <summary>The id of a KnownEncoding record, or null for an ExtensibleEncoding record / before the encoding.</summary>
    public byte? KnownEncodingId { get; private set; }

    /// <summary>Set when <see cref="Stage"/> is <see cref="PreambleStage.Failed"/>.</summary>
    public PreambleError Error { get; private set; }

    /// <summary>
    /// Name of the UpgradeRequest record that made the last <see cref="Decode"/> call stop (Stage stays
    /// AfterEncoding). The caller answers it (UpgradeResponse or UpgradeInvalid fault) before feeding more bytes;
    /// the next Decode call with non-empty input clears it.
    /// </summary>
    public string? UpgradeRequested { get; private set; }

    /// <summary>True when the last Decode call stopped on an UpgradeRequest record.</summary>
    public bool IsUpgradePending => UpgradeRequested is not null;

    /// <summary>True when Stage is Complete or Failed: no further byte will be consumed.</summary>
    public bool IsFinished => _step is Step.Complete or Step.Failed;

    /// <summary>True once the first byte of the preamble has been consumed (e.g. to tell EOF from a truncated preamble).</summary>
    public bool HasStarted => _step != Step.VersionRecord;

    /// <summary>
    /// The framing fault a server should send for <see cref="Error"/>, or null when the right answer is to close
    /// the connection without a fault (what WCF and SMSvcHost do for oversize or malformed records).
    /// </summary>
    public string? FaultFor => Error switch
    {
        PreambleError.UnsupportedVersion => FramingFaults.UnsupportedVersion,
        PreambleError.UnsupportedMode => FramingFaults.UnsupportedMode,
        PreambleError.InvalidContentType => FramingFaults.ContentTypeInvalid,
        _ => null,
    };

    /// <summary>
    /// Consumes preamble bytes from <paramref name="input"/> and returns how many were taken. It stops early at
    /// Complete, at Failed (the offending byte counts as consumed), and right after an UpgradeRequest record.
    /// Otherwise it takes the whole input, keeping any partial record for the next call.
    /// </summary>
    public int Decode(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return 0;
        }

        UpgradeRequested = null;
        int pos = 0;
        while (pos < input.Length)
        {
            switch (_step)
            {
                case Step.Complete:
                case Step.Failed:
                    return pos;

                case Step.VersionRecord:
                    if (input[pos++] != (byte)FramingRecordType.Version)
                    {
                        return Fail(PreambleError.UnexpectedRecord, pos);
                    }

                    _step = Step.VersionMajor;
                    break;

                case Step.VersionMajor:
                    MajorVersion = input[pos++];

                    // Only the major version is checked (as WCF does); minor is read and ignored.
                    if (MajorVersion != 1)
                    {
                        return Fail(PreambleError.UnsupportedVersion, pos);
                    }

                    _step = Step.VersionMinor;
                    break;

                case Step.VersionMinor:
                    MinorVersion = input[pos++];
                    _step = Step.ModeRecord;
                    break;

                case Step.ModeRecord:
                    if (input[pos++] != (byte)FramingRecordType.Mode)
                    {
                        return Fail(PreambleError.UnexpectedRecord, pos);
                    }

                    _step = Step.ModeValue;
                    break;

                case Step.ModeValue:
                {
                    byte mode = input[pos++];
                    if (mode is < (byte)FramingMode.Singleton or > (byte)FramingMode.SingletonSized)
                    {
                        return Fail(PreambleError.UnsupportedMode, pos);
                    }

                    Mode = (FramingMode)mode;
                    _step = Step.ViaRecord;
                    break;
                }

                case Step.ViaRecord:
                    if (input[pos++] != (byte)FramingRecordType.Via)
                    {
                        return Fail(PreambleError.UnexpectedRecord, pos);
                    }

                    _step = Step.ViaString;
                    break;

                case Step.ViaString:
                {
                    var status = _string.Read(input[pos..], _maxViaSize, out int used, out string? via);
                    pos += used;
                    switch (status)
                    {
                        case StringRecordStatus.NeedMoreData:
                            return pos;
                        case StringRecordStatus.IntegerTooLarge:
                            return Fail(PreambleError.IntegerTooLarge, pos);
                        case StringRecordStatus.TooLong:
                            return Fail(PreambleError.ViaTooLong, pos);
                        case StringRecordStatus.InvalidUtf8:
                            return Fail(PreambleError.InvalidVia, pos);
                    }

                    if (!IsAbsoluteUri(via!))
                    {
                        return Fail(PreambleError.InvalidVia, pos);
                    }

                    Via = via;
                    _step = Step.EncodingRecord;
                    break;
                }

                case Step.EncodingRecord:
                    switch ((FramingRecordType)input[pos++])
                    {
                        case FramingRecordType.KnownEncoding:
                            _step = Step.KnownEncodingId;
                            break;
                        case FramingRecordType.ExtensibleEncoding:
                            _step = Step.ExtensibleEncodingString;
                            break;
                        default:
                            return Fail(PreambleError.UnexpectedRecord, pos);
                    }

                    break;

                case Step.KnownEncodingId:
                {
                    byte id = input[pos++];
                    KnownEncodingId = id;
                    ContentType = KnownEncodings.ContentTypeOf(id) ?? "unknown" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    AfterEncoding();
                    break;
                }

                case Step.ExtensibleEncodingString:
                {
                    var status = _string.Read(input[pos..], _maxContentTypeSize, out int used, out string? contentType);
                    pos += used;
                    switch (status)
                    {
                        case StringRecordStatus.NeedMoreData:
                            return pos;
                        case StringRecordStatus.IntegerTooLarge:
                            return Fail(PreambleError.IntegerTooLarge, pos);
                        case StringRecordStatus.TooLong:
                            return Fail(PreambleError.ContentTypeTooLong, pos);
                        case StringRecordStatus.InvalidUtf8:
                            return Fail(PreambleError.InvalidContentType, pos);
                    }

                    ContentType = contentType;
                    AfterEncoding();
                    break;
                }

                case Step.UpgradeOrEndRecord:
                    switch ((FramingRecordType)input[pos++])
                    {
                        case FramingRecordType.UpgradeRequest:
                            _step = Step.UpgradeName;
                            break;
                        case FramingRecordType.PreambleEnd:
                            _step = Step.Complete;
                            return pos;
                        default:
                            return Fail(PreambleError.UnexpectedRecord, pos);
                    }

                    break;

                case Step.UpgradeName:
                {
                    // Upgrade names ("application/ssl-tls", "application/negotiate") are content-type-like
                    // strings, so the content-type quota bounds them too.
                    var status = _string.Read(input[pos..], _maxContentTypeSize, out int used, out string? name);
                    pos += used;
                    switch (status)
                    {
                        case StringRecordStatus.NeedMoreData:
                            return pos;
                        case StringRecordStatus.IntegerTooLarge:
                            return Fail(PreambleError.IntegerTooLarge, pos);
                        case StringRecordStatus.TooLong:
                        case StringRecordStatus.InvalidUtf8:
                            return Fail(PreambleError.InvalidUpgrade, pos);
                    }

                    // Stop here: the bytes after an UpgradeRequest belong to the upgrade protocol (e.g. TLS),
                    // not to framing, until the caller has answered and set up the upgraded stream.
                    UpgradeRequested = name;
                    _step = Step.UpgradeOrEndRecord;
                    return pos;
                }
            }
        }

        return pos;
    }

    /// <summary>Forgets everything so the instance can read the next preamble on the same connection.</summary>
    public void Reset()
    {
        _string.Reset();
        _step = Step.VersionRecord;
        Mode = default;
        MajorVersion = 0;
        MinorVersion = 0;
        Via = null;
        ContentType = null;
        KnownEncodingId = null;
        Error = PreambleError.None;
        UpgradeRequested = null;
    }

    private void AfterEncoding()
    {
        // Simplex and SingletonSized have no upgrades and no PreambleEnd: the preamble ends with the encoding.
        _step = Mode is FramingMode.Simplex or FramingMode.SingletonSized ? Step.Complete : Step.UpgradeOrEndRecord;
    }

    private int Fail(PreambleError error, int consumed)
    {
        _string.Reset();
        Error = error;
        _step = Step.Failed;
        return consumed;
    }

    /// <summary>
    /// True for an absolute URI that starts with its own scheme. The scheme check matters on Unix, where
    /// <see cref="Uri.TryCreate(string, UriKind, out Uri)"/> also accepts "/path" as an implicit file URI, and it
    /// rejects leading whitespace that Uri would silently trim.
    /// </summary>
    internal static bool IsAbsoluteUri(string via)
    {
        if (!Uri.TryCreate(via, UriKind.Absolute, out var uri))
        {
            return false;
        }

        string scheme = uri.Scheme;
        return via.Length > scheme.Length
            && via[scheme.Length] == ':'
            && via.StartsWith(scheme, StringComparison.OrdinalIgnoreCase);
    }
}
