namespace AkkaPortShare.Benchmark.Scenarios;

/// <summary>
/// Every scenario the benchmark runs, in report order. To add one, implement <see cref="IScenario"/> and list it here.
/// </summary>
/// <remarks>
/// Not here yet: reliable sessions (the goodput at transfer windows 1, 8, 64, 512 and added round-trip
/// delays of 0, 2, 20 ms, next to the bound min(link rate, window x message size / RTT)). They do not exist in the
/// product yet. When they do, that scenario is one class per (window, delay) like <see cref="ChurnScenario"/> is
/// per concurrency: it starts a delay relay (a loopback TCP forwarder that holds each chunk for delay/2 per
/// direction) in front of <c>context.Topology.EndPointOf(path)</c>, runs a WS-ReliableMessaging session through
/// it, and reports goodput plus the bound as a second metric with <c>HasDirectRatio</c> set as needed.
/// </remarks>
public static class ScenarioRegistry
{
    public static IReadOnlyList<IScenario> All(BenchmarkOptions options) =>
    [
        .. options.ChurnConcurrency.Select(c => new ChurnScenario(c, showCpu: c == options.ChurnConcurrency.Max())),
        new StreamingScenario(),
        new HeldConnectionsScenario(),
    ];

    public static IReadOnlyList<IScenario> Selected(BenchmarkOptions options) =>
        All(options).Where(s => options.Scenarios is null || options.Scenarios.Contains(s.Group) || options.Scenarios.Contains(s.Name))
            .ToList();
}
