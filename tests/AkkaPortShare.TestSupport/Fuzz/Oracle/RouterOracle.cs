using System.Net;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.TestSupport.Fuzz.Cases;

namespace AkkaPortShare.TestSupport.Fuzz.Oracle;

public enum AnswerKind { Ack, Fault, Close }

/// <summary>What a client should get: PreambleAck (a worker took it), a fault record, or a close without a byte.</summary>
public readonly record struct ExpectedAnswer(AnswerKind Kind, string? Fault = null)
{
    public static readonly ExpectedAnswer Ack = new(AnswerKind.Ack);
    public static readonly ExpectedAnswer Close = new(AnswerKind.Close);

    public static ExpectedAnswer FaultOf(string uri) => new(AnswerKind.Fault, uri);

    public override string ToString() => Kind == AnswerKind.Fault ? $"fault {Fault![FramingFaults.Prefix.Length..]}" : Kind.ToString().ToLowerInvariant();
}

/// <summary>
/// The router's expected answer to a case, from the pure pieces it is built of: the decoder's verdict on the
/// bytes (a fault where <see cref="PreambleDecoder.FaultFor"/> names one, else a clean close; a preamble the
/// client ends early, a clean close too), the mode check, the address table with the fuzz worker's one
/// registration (no match: EndpointNotFound), and for a routed case the worker's own verdict on the same bytes
/// (PreambleAck, UpgradeInvalid for an upgrade, or its decoder's fault/close).
/// </summary>
/// <remarks>
/// The router decides on what its reads have brought in. A client that sends the case in one write is normally
/// read in one piece, and that is <see cref="Expect"/>'s <c>Primary</c>. If the bytes arrived split, the router
/// may already have routed at the end of the encoding record, before the bytes that make the whole case fail:
/// that answer is the <c>Alternative</c>, accepted too (counted apart).
/// </remarks>
public sealed class RouterOracle
{
    private readonly FuzzTarget _target;
    private readonly AddressTable<string> _table = new();
    private readonly IPEndPoint _local;

    public RouterOracle(FuzzTarget target)
    {
        _target = target;
        _local = new IPEndPoint(IPAddress.Loopback, target.Port);
        _table.TryAdd(BaseAddress.Parse(target.RegisteredAddress), "fuzz-worker", out _);
    }

    public (ExpectedAnswer Primary, ExpectedAnswer? Alternative) Expect(byte[] bytes)
    {
        var decoder = NewDecoder();
        decoder.Decode(bytes);
        var primary = Judge(decoder, bytes);

        // Where the router could have routed on a shorter read: the first prefix that gets past the encoding record.
        if (decoder.Stage != PreambleStage.Failed) return (primary, null);
        var prefix = NewDecoder();
        for (var i = 0; i < bytes.Length && !prefix.IsFinished; i++)
        {
            prefix.Decode(bytes.AsSpan(i, 1));
            if (prefix.Stage is PreambleStage.AfterEncoding or PreambleStage.Complete)
            {
                var alternative = Routed(prefix, bytes);
                return (primary, alternative == primary ? null : alternative);
            }
        }
        return (primary, null);
    }

    private ExpectedAnswer Judge(PreambleDecoder decoder, byte[] bytes) => decoder.Stage switch
    {
        PreambleStage.Failed => decoder.FaultFor is { } fault ? ExpectedAnswer.FaultOf(fault) : ExpectedAnswer.Close,
        PreambleStage.AfterEncoding or PreambleStage.Complete => Routed(decoder, bytes),
        _ => ExpectedAnswer.Close, // the client ended its preamble early (it half-closes after sending the case)
    };

    private ExpectedAnswer Routed(PreambleDecoder decoder, byte[] bytes)
    {
        if (decoder.Mode is not (FramingMode.Duplex or FramingMode.Singleton)) return ExpectedAnswer.FaultOf(FramingFaults.UnsupportedMode);
        if (!_table.TryMatch(decoder.Via!, _local, out _, out _)) return ExpectedAnswer.FaultOf(FramingFaults.EndpointNotFound);

        // The worker replays every byte the router read and decodes the preamble itself.
        var worker = NewDecoder();
        worker.Decode(bytes);
        if (worker.Stage == PreambleStage.Failed)
            return worker.FaultFor is { } fault ? ExpectedAnswer.FaultOf(fault) : ExpectedAnswer.Close;
        if (worker.IsUpgradePending) return ExpectedAnswer.FaultOf(FramingFaults.UpgradeInvalid);
        return worker.Stage == PreambleStage.Complete ? ExpectedAnswer.Ack : ExpectedAnswer.Close;
    }

    private PreambleDecoder NewDecoder() => new(_target.MaxViaSize, _target.MaxContentTypeSize);
}
