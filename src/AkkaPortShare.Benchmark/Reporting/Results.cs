using AkkaPortShare.Benchmark.Scenarios;
using AkkaPortShare.Benchmark.Topology;

namespace AkkaPortShare.Benchmark.Reporting;

/// <summary>
/// One run of one scenario on one path in one repetition, and the machine's load while it ran:
/// <see cref="OtherCpuShare"/>, the share of all cores (0–1) that processes other than the benchmark's used meanwhile
/// (/proc/stat busy time minus the benchmark's own processes' /proc/PID/stat time); <see cref="MachineBusyShare"/>, the
/// share of all cores busy meanwhile, ours included; <see cref="LoadAverage1m"/> at its start.
/// </summary>
public sealed record RunRecord(string Scenario, string Path, int Repetition, DateTime At, double LoadAverage1m,
    double OtherCpuShare, ScenarioResult Result, double MachineBusyShare = double.NaN);

/// <summary>A median and the spread (min–max) of values taken one per repetition; nulls when there is none.</summary>
public sealed record Spread(double[] Values, double? Median, double? Min, double? Max)
{
    public static Spread Of(List<double> values) =>
        new([.. values], ResultSet.Median(values), values.Count == 0 ? null : values.Min(), values.Count == 0 ? null : values.Max());
}

/// <summary>
/// One figure on one path over the repetitions: its median and spread; its ratio to direct and to HAProxy, each the
/// median (and min–max) of per-repetition ratios, each pair from the same repetition; and the machine's load while it
/// was measured (median over the repetitions, and the most other processes used).
/// </summary>
public sealed record Summary(string Scenario, string Metric, string Path, double[] Values, double? Median, double? Min,
    double? Max, double[] RatiosToDirect, double? RatioMedian, double? RatioMin, double? RatioMax)
{
    public Spread ToHaproxy { get; init; } = Spread.Of([]);
    public Spread OtherCpu { get; init; } = Spread.Of([]);
    public Spread MachineBusy { get; init; } = Spread.Of([]);
    public Spread LoadAverage1m { get; init; } = Spread.Of([]);
}

public sealed class ResultSet
{
    private readonly List<RunRecord> _runs = [];

    public IReadOnlyList<RunRecord> Runs => _runs;

    public void Add(RunRecord run)
    {
        lock (_runs) _runs.Add(run);
    }

    public RunRecord? Find(string scenario, string path, int repetition) =>
        _runs.FirstOrDefault(r => r.Scenario == scenario && r.Path == path && r.Repetition == repetition);

    public Summary Summarize(IScenario scenario, Metric metric, BenchPath path, int repetitions)
    {
        var values = new List<double>();
        var ratios = new List<double>();
        var toHaproxy = new List<double>();
        List<double> other = [], busy = [], loadAverage = [];
        for (var rep = 1; rep <= repetitions; rep++)
        {
            if (Find(scenario.Name, path.Name, rep) is not { } run) continue;
            AddIfNumber(other, run.OtherCpuShare);
            AddIfNumber(busy, run.MachineBusyShare);
            AddIfNumber(loadAverage, run.LoadAverage1m);
            var v = run.Result.Values.GetValueOrDefault(metric.Key, double.NaN);
            if (double.IsNaN(v)) continue;
            values.Add(v);
            if (path.Name != BenchPath.Haproxy.Name && ValueOf(scenario.Name, BenchPath.Haproxy.Name, metric.Key, rep) is { } h)
                toHaproxy.Add(v / h);
            if (path.IsDirect || !metric.HasDirectRatio) continue;
            if (ValueOf(scenario.Name, BenchPath.Direct.Name, metric.Key, rep) is { } d) ratios.Add(v / d);
        }
        return new Summary(scenario.Name, metric.Key, path.Name, [.. values], Median(values), Min(values), Max(values),
            [.. ratios], Median(ratios), Min(ratios), Max(ratios))
        {
            ToHaproxy = Spread.Of(toHaproxy), OtherCpu = Spread.Of(other), MachineBusy = Spread.Of(busy),
            LoadAverage1m = Spread.Of(loadAverage),
        };
    }

    // A usable divisor: the figure exists in that repetition, and is not 0.
    private double? ValueOf(string scenario, string path, string metric, int repetition) =>
        Find(scenario, path, repetition)?.Result.Values.GetValueOrDefault(metric, double.NaN) is { } v && !double.IsNaN(v) && v != 0
            ? v
            : null;

    private static void AddIfNumber(List<double> values, double value)
    {
        if (!double.IsNaN(value)) values.Add(value);
    }

    /// <summary>Median over repetitions of a / b for two paths (e.g. hand-over against HAProxy).</summary>
    public double? PairedRatio(string scenario, string metric, string pathA, string pathB, int repetitions)
    {
        var ratios = new List<double>();
        for (var rep = 1; rep <= repetitions; rep++)
        {
            var a = Find(scenario, pathA, rep)?.Result.Values.GetValueOrDefault(metric, double.NaN) ?? double.NaN;
            var b = Find(scenario, pathB, rep)?.Result.Values.GetValueOrDefault(metric, double.NaN) ?? double.NaN;
            if (!double.IsNaN(a) && !double.IsNaN(b) && b != 0) ratios.Add(a / b);
        }
        return Median(ratios);
    }

    /// <summary>
    /// Median over repetitions of what hand-over ÷ direct would be if our router and worker added to a connection
    /// only what the floor's do: 1 / (1/direct + 1/floor hand-over − 1/floor direct), from connections per second
    /// (each loop's time per connection; the concurrency cancels out).
    /// </summary>
    public double? FloorBound(string churnScenario, int repetitions)
    {
        var bounds = new List<double>();
        for (var rep = 1; rep <= repetitions; rep++)
        {
            if (ValueOf(churnScenario, BenchPath.Direct.Name, "conn_per_s", rep) is not { } direct
                || ValueOf(churnScenario, BenchPath.FloorDirect.Name, "conn_per_s", rep) is not { } floorDirect
                || ValueOf(churnScenario, BenchPath.FloorHandover.Name, "conn_per_s", rep) is not { } floorHandover) continue;
            bounds.Add(1 / (1 / direct + 1 / floorHandover - 1 / floorDirect) / direct);
        }
        return Median(bounds);
    }

    public static double? Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static double? Min(List<double> values) => values.Count == 0 ? null : values.Min();
    private static double? Max(List<double> values) => values.Count == 0 ? null : values.Max();
}
