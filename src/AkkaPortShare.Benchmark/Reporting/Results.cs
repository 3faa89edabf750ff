using AkkaPortShare.Benchmark.Scenarios;
using AkkaPortShare.Benchmark.Topology;

namespace AkkaPortShare.Benchmark.Reporting;

/// <summary>
/// One run of one scenario on one path in one repetition. <see cref="OtherCpuShare"/>: share of the machine's CPU
/// (0–1) that processes other than the benchmark's used meanwhile.
/// </summary>
public sealed record RunRecord(string Scenario, string Path, int Repetition, DateTime At, double LoadAverage1m,
    double OtherCpuShare, ScenarioResult Result);

/// <summary>Median and spread of one figure on one path, and its ratio to direct from the same repetitions.</summary>
public sealed record Summary(string Scenario, string Metric, string Path, double[] Values, double? Median, double? Min,
    double? Max, double[] RatiosToDirect, double? RatioMedian, double? RatioMin, double? RatioMax);

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
        for (var rep = 1; rep <= repetitions; rep++)
        {
            if (Find(scenario.Name, path.Name, rep)?.Result.Values.GetValueOrDefault(metric.Key, double.NaN) is not { } v
                || double.IsNaN(v)) continue;
            values.Add(v);
            if (path.IsDirect || !metric.HasDirectRatio) continue;
            var direct = Find(scenario.Name, BenchPath.Direct.Name, rep)?.Result.Values.GetValueOrDefault(metric.Key, double.NaN);
            if (direct is { } d && !double.IsNaN(d) && d != 0) ratios.Add(v / d);
        }
        return new Summary(scenario.Name, metric.Key, path.Name, [.. values], Median(values), Min(values), Max(values),
            [.. ratios], Median(ratios), Min(ratios), Max(ratios));
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
