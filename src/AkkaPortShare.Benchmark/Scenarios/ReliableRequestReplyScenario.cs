using System.Diagnostics;
using AkkaPortShare.Benchmark.Load;
using AkkaPortShare.Benchmark.Topology;

namespace AkkaPortShare.Benchmark.Scenarios;

/// <summary>
/// What a reliable session costs a request/reply call: the real WCF client calls the sample's small Echo on the same
/// path, once over a plain NetTcpBinding channel and once over a reliable session (the transfer window of the
/// goodput scenarios), alternating blocks of calls on the two open channels so both see the same machine load.
/// Reported: the p50 of each and their ratio (issue 14's aim: reliable ≤ 1.5× plain).
/// </summary>
public sealed class ReliableRequestReplyScenario(int window) : IScenario
{
    private const int Block = 50;

    public string Name => "rm-rr";
    public string Group => "reliable";
    public string Title => $"request/reply with and without a reliable session (window {window})";
    public bool NeedsFreshProcesses => false;

    public IReadOnlyList<Metric> Metrics { get; } =
    [
        new("plain_p50_ms", "request/reply p50, no reliable session", "ms", HigherIsBetter: false, Format: "N3"),
        new("reliable_p50_ms", "request/reply p50, reliable session", "ms", HigherIsBetter: false, Format: "N3"),
        new("reliable_over_plain", "reliable ÷ plain (p50, same run)", "×", HigherIsBetter: false, HasDirectRatio: false, Format: "N2"),
        new("instant_p50_ms", "the same reliable client against a server that answers instantly, p50", "ms", HigherIsBetter: false,
            HasDirectRatio: false, Format: "N3", DirectOnly: true),
        new("instant_over_plain", "instant server ÷ plain (p50): the WCF client's own floor", "×", HigherIsBetter: false,
            HasDirectRatio: false, Format: "N2", DirectOnly: true),
    ];

    public bool AppliesTo(BenchPath path) => path.IsDirect || path.Name == BenchPath.Handover.Name;

    public async Task<ScenarioResult> RunAsync(ScenarioContext context, BenchPath path, CancellationToken ct)
    {
        var port = context.Topology.EndPointOf(path).Port;
        // BENCH_RELAY_TRACE=1: through a relay that adds nothing, which timestamps every chunk each way (monotonic
        // clock, microseconds: the same clock as Stopwatch in the worker), for a trace of where a call's time goes.
        using var traceRelay = Environment.GetEnvironmentVariable("BENCH_RELAY_TRACE") == "1"
            ? new DelayRelay(context.Topology.EndPointOf(path), TimeSpan.Zero) : null;
        if (traceRelay is not null) port = traceRelay.Port;
        Uri At(string p) => new($"net.tcp://localhost:{port}/{p}");
        var (plainFactory, plain) = await ReliableLoad.OnOwnThread(() => WcfClients.Open(WcfClients.Plain(), At(ReliableLoad.PlainPath)));
        var (rmFactory, reliable) = await ReliableLoad.OnOwnThread(() =>
            WcfClients.Open(WcfClients.Reliable(window, context.Options.RmFlowControl), At(ReliableLoad.ReliablePath(window))));
        // Only on the direct path (the instant server is in this process: no path leads to it).
        using var instantServer = path.IsDirect ? new InstantReliableServer(window) : null;
        var (instantFactory, instant) = instantServer is null ? (null, null) : await ReliableLoad.OnOwnThread(() =>
            WcfClients.Open(WcfClients.Reliable(window, context.Options.RmFlowControl),
                new Uri($"net.tcp://localhost:{instantServer.Port}/{ReliableLoad.ReliablePath(window)}")));
        try
        {
            var (plainSamples, rmSamples, instantSamples) = await ReliableLoad.OnOwnThread(() => Measure(plain, reliable, instant, context.Options));
            await ReliableLoad.OnOwnThread(() =>
            {
                WcfClients.Abort(instantFactory, instant); // the instant server has no close handshake
                WcfClients.Close(rmFactory, reliable);
                WcfClients.Close(plainFactory, plain);
            });
            var result = new ScenarioResult { Operations = plainSamples.Count + rmSamples.Count };
            var plainP50 = Percentile(plainSamples, 0.5);
            var rmP50 = Percentile(rmSamples, 0.5);
            result.Values["plain_p50_ms"] = plainP50;
            result.Values["reliable_p50_ms"] = rmP50;
            result.Values["reliable_over_plain"] = rmP50 / plainP50;
            result.Extra["plain_p90_ms"] = Percentile(plainSamples, 0.9);
            result.Extra["reliable_p90_ms"] = Percentile(rmSamples, 0.9);
            result.Extra["calls_each"] = rmSamples.Count;
            if (instantSamples.Count > 0)
            {
                result.Values["instant_p50_ms"] = Percentile(instantSamples, 0.5);
                result.Values["instant_over_plain"] = Percentile(instantSamples, 0.5) / plainP50;
                result.Extra["instant_p90_ms"] = Percentile(instantSamples, 0.9);
            }
            return result;
        }
        catch
        {
            WcfClients.Abort(instantFactory, instant);
            WcfClients.Abort(rmFactory, reliable);
            WcfClients.Abort(plainFactory, plain);
            throw;
        }
    }

    /// <summary>Blocks of calls, alternating between the two channels, for the measured stretch (milliseconds each).</summary>
    private static (List<double> Plain, List<double> Reliable, List<double> Instant) Measure(IBenchEchoService plain,
        IBenchEchoService reliable, IBenchEchoService? instant, BenchmarkOptions options)
    {
        var warmupUntil = Stopwatch.GetTimestamp() + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < warmupUntil)
        {
            Call(plain);
            Call(reliable);
            if (instant is not null) Call(instant);
        }
        var instantSamples = new List<double>();
        var plainSamples = new List<double>();
        var rmSamples = new List<double>();
        var until = Stopwatch.GetTimestamp() + (long)(options.RmDuration.TotalSeconds * Stopwatch.Frequency);
        while (rmSamples.Count < 100_000 && (rmSamples.Count < 2 * Block || Stopwatch.GetTimestamp() < until))
        {
            for (var i = 0; i < Block; i++) plainSamples.Add(Call(plain));
            for (var i = 0; i < Block; i++) rmSamples.Add(Call(reliable));
            if (instant is not null)
                for (var i = 0; i < Block; i++) instantSamples.Add(Call(instant));
        }
        return (plainSamples, rmSamples, instantSamples);
    }

    private static double Call(IBenchEchoService channel)
    {
        var t0 = Stopwatch.GetTimestamp();
        if (channel.Echo("x") != "x") throw new InvalidDataException("the echo differs from the request");
        return (Stopwatch.GetTimestamp() - t0) * 1000.0 / Stopwatch.Frequency;
    }

    private static double Percentile(List<double> samples, double q)
    {
        var sorted = samples.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
    }
}
