namespace AkkaPortShare.Protocol.Framing;

/// <summary>
/// The communication pattern announced in the Mode record. Only <see cref="Duplex"/> (buffered NetTcpBinding)
/// and <see cref="Singleton"/> (streamed NetTcpBinding) are used over TCP; the other two come from MSMQ.
/// </summary>
public enum FramingMode : byte
{
    /// <summary>One unsized (chunked) envelope per session; preamble ends with PreambleEnd.</summary>
    Singleton = 0x01,
    /// <summary>Any number of sized envelopes both ways; preamble ends with PreambleEnd.</summary>
    Duplex = 0x02,
    /// <summary>Sized envelopes one way only; no PreambleEnd, no upgrades.</summary>
    Simplex = 0x03,
    /// <summary>Raw message octets to the end of the stream; no PreambleEnd, no upgrades.</summary>
    SingletonSized = 0x04,
}
