using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.TestSupport.Fuzz.Cases;

/// <summary>Where a <see cref="PreambleDecoder"/> ends up after one Decode call over a whole case.</summary>
public readonly record struct DecoderVerdict(PreambleStage Stage, PreambleError Error)
{
    public override string ToString() => Error == PreambleError.None ? Stage.ToString() : $"{Stage}/{Error}";
}

/// <summary>
/// One fuzz case: the bytes a client sends, what kind of case it is, and, for generated (not mutated) cases, the
/// decoder verdict the generator built it to produce. That intended verdict is an oracle independent of the
/// decoder: the generator knows the records it wrote.
/// </summary>
public sealed record PreambleCase(long Index, string Kind, byte[] Bytes, DecoderVerdict? Intended)
{
    public override string ToString() =>
        $"case {Index} ({Kind}, {Bytes.Length} bytes{(Intended is { } v ? $", intended {v}" : "")}): {Convert.ToHexString(Bytes.AsSpan(0, Math.Min(Bytes.Length, 96)))}{(Bytes.Length > 96 ? "…" : "")}";
}

/// <summary>The router under test: its port, the one address the fuzz worker registers, and its limits.</summary>
public sealed record FuzzTarget(int Port, string RegisteredPath = "fuzz/", int MaxViaSize = FramingLimits.DefaultMaxViaSize,
    int MaxContentTypeSize = FramingLimits.DefaultMaxContentTypeSize)
{
    /// <summary>
    /// The port generated vias name. Fixed, so a seed gives the same cases whatever port the router listens on;
    /// the fuzz worker's strong-wildcard registration is matched on the connection's own port, not the via's.
    /// </summary>
    public const int ViaPort = 8808;

    /// <summary>What the fuzz worker registers, e.g. <c>net.tcp://+:8808/fuzz/</c>.</summary>
    public string RegisteredAddress => $"net.tcp://+:{Port}/{RegisteredPath}";

    /// <summary>The via the legitimate client uses.</summary>
    public string LegitimateVia => $"net.tcp://localhost:{Port}/{RegisteredPath}probe";
}
