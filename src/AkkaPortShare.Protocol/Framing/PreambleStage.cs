namespace AkkaPortShare.Protocol.Framing;

/// <summary>Which preamble record a <see cref="PreambleDecoder"/> is reading (or waiting for).</summary>
public enum PreambleStage
{
    Version,
    Mode,
    Via,
    Encoding,
    /// <summary>Duplex/Singleton only: waiting for UpgradeRequest or PreambleEnd.</summary>
    AfterEncoding,
    /// <summary>PreambleEnd read, or for Simplex/SingletonSized: the encoding record read.</summary>
    Complete,
    /// <summary>See <see cref="PreambleDecoder.Error"/>.</summary>
    Failed,
}
