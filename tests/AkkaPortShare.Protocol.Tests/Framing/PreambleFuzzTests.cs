using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.TestSupport.Fuzz.Cases;
using AkkaPortShare.TestSupport.Fuzz.Oracle;
using Xunit.Abstractions;

namespace AkkaPortShare.Protocol.Tests.Framing;

/// <summary>
/// The fast slice of the fuzz run (src/AkkaPortShare.Fuzz/run.sh runs 1,000,000): generated and mutated preambles
/// through the decoder, at once and split at random points, each generated case reaching the verdict it was
/// built for. Fixed seeds, so a failure names a case that `aps-fuzz case --seed S --index I` reproduces.
/// </summary>
public sealed class PreambleFuzzTests(ITestOutputHelper output)
{
    private static readonly FuzzTarget Target = new(8808);

    [Fact]
    public void The_decoder_holds_on_100000_generated_and_mutated_preambles()
    {
        var report = DecoderFuzzer.Run(new CaseSource(Target, seed: 1), first: 0, count: 100_000);
        output.WriteLine(report.ToString());

        Assert.True(report.Failures.Count == 0, string.Join("\n", report.Failures));
        Assert.True(report.Generated > 40_000 && report.Mutated > 40_000, $"{report.Generated} generated, {report.Mutated} mutated");
        // Every way a preamble can fail, and every stage it can stop in, came up.
        foreach (var error in Enum.GetValues<PreambleError>().Where(e => e != PreambleError.None))
            Assert.True(report.ByVerdict.ContainsKey($"Failed/{error}"), $"no case ended in {error}");
        foreach (var stage in Enum.GetValues<PreambleStage>().Where(s => s != PreambleStage.Failed))
            Assert.True(report.ByVerdict.ContainsKey(stage.ToString()), $"no case stopped in {stage}");
    }

    [Fact]
    public void The_corpus_is_reproducible_from_seed_and_index()
    {
        var a = new CaseSource(Target, seed: 5);
        var b = new CaseSource(Target, seed: 5);

        foreach (var index in new long[] { 0, 1, 77, 99_999, 5_000_000_000 })
            Assert.Equal(a.Case(index).Bytes, b.Case(index).Bytes);
        Assert.NotEqual(a.Case(1).Bytes, new CaseSource(Target, seed: 6).Case(1).Bytes);
    }

    [Theory]
    [InlineData("000100010202", "close")]                                  // ends inside the via record
    [InlineData("000200", "fault UnsupportedVersion")]
    [InlineData("0001000107", "fault UnsupportedMode")]
    [InlineData("474554202F", "close")]                                    // "GET /"
    [InlineData("000100010202FFFFFFFF0F", "close")]                        // via length over 31 bits
    public void The_router_oracle_answers_as_the_Windows_service_does(string hex, string expected)
    {
        var (primary, _) = new RouterOracle(Target).Expect(Convert.FromHexString(hex));

        Assert.Equal(expected, primary.ToString());
    }

    [Fact]
    public void The_router_oracle_routes_a_registered_via_to_the_worker_and_faults_an_unknown_one()
    {
        var oracle = new RouterOracle(Target);

        Assert.Equal(ExpectedAnswer.Ack, oracle.Expect(FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/fuzz/x")).Primary);
        Assert.Equal(ExpectedAnswer.FaultOf(FramingFaults.EndpointNotFound),
            oracle.Expect(FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/other/")).Primary);
        Assert.Equal(ExpectedAnswer.FaultOf(FramingFaults.UnsupportedMode),
            oracle.Expect(FramingWriter.Preamble(FramingMode.Simplex, "net.tcp://localhost:8808/fuzz/x")).Primary);
        // An upgrade request reaches the worker, which offers none.
        var upgrade = FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/fuzz/x", includePreambleEnd: false);
        Assert.Equal(ExpectedAnswer.FaultOf(FramingFaults.UpgradeInvalid),
            oracle.Expect([.. upgrade, 0x09, 0x13, .. "application/ssl-tls"u8]).Primary);
    }
}
