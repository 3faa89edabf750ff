namespace AkkaPortShare.Protocol.Framing;

/// <summary>Why a <see cref="PreambleDecoder"/> gave up. New members are only ever appended.</summary>
public enum PreambleError
{
    None,
    /// <summary>Major version is not 1.</summary>
    UnsupportedVersion,
    /// <summary>Mode byte outside 1–4.</summary>
    UnsupportedMode,
    /// <summary>Announced via length is over the quota (detected before the via bytes are read).</summary>
    ViaTooLong,
    /// <summary>Announced extensible content type length is over the quota.</summary>
    ContentTypeTooLong,
    /// <summary>Via is not valid UTF-8 or not an absolute URI.</summary>
    InvalidVia,
    /// <summary>Extensible content type is not valid UTF-8.</summary>
    InvalidContentType,
    /// <summary>A multi-byte integer does not fit in 31 bits (or uses more than 5 bytes).</summary>
    IntegerTooLarge,
    /// <summary>A record type byte other than the one(s) allowed at this point.</summary>
    UnexpectedRecord,
    /// <summary>Upgrade name longer than the content-type quota, or not valid UTF-8.</summary>
    InvalidUpgrade,
}
