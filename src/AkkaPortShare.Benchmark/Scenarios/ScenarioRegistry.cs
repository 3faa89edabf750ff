namespace AkkaPortShare.Benchmark.Scenarios;

/// <summary>
/// Every scenario the benchmark runs, in report order. To add one, implement <see cref="IScenario"/> and list it here.
/// </summary>
public static class ScenarioRegistry
{
    public static IReadOnlyList<IScenario> All(BenchmarkOptions options) =>
    [
        // CPU per connection on every churn row: the router's (or HAProxy's) cost per routed connection at each concurrency.
        .. options.ChurnConcurrency.Select(c => new ChurnScenario(c, showCpu: true, options.Tls)),
        new StreamingScenario(),
        new HeldConnectionsScenario(),
        .. Reliable(options),
    ];

    // Per added delay: its link calibration first, then goodput at each window (the runner keeps this order).
    private static IEnumerable<IScenario> Reliable(BenchmarkOptions options)
    {
        var calibrations = new LinkCalibrations();
        yield return new ReliableRequestReplyScenario(options.RmWindows.Contains(8) ? 8 : options.RmWindows[0]);
        foreach (var delay in options.RmDelaysMs)
        {
            yield return new ReliableLinkScenario(delay, calibrations);
            foreach (var window in options.RmWindows) yield return new ReliableGoodputScenario(window, delay, calibrations);
        }
    }

    public static IReadOnlyList<IScenario> Selected(BenchmarkOptions options) =>
        All(options).Where(s => options.Scenarios is null || options.Scenarios.Contains(s.Group) || options.Scenarios.Contains(s.Name))
            .ToList();
}
