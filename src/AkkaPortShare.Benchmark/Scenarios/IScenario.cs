using AkkaPortShare.Benchmark.Load;
using AkkaPortShare.Benchmark.Topology;

namespace AkkaPortShare.Benchmark.Scenarios;

/// <summary>
/// One figure-producing workload. The runner calls it once per path per repetition and puts each metric next to
/// the direct path's value from the same repetition. A scenario only talks to an <see cref="System.Net.IPEndPoint"/>
/// and reads process memory through the topology, so a new one (e.g. reliable sessions) plugs in by adding a class
/// and a line in <see cref="ScenarioRegistry"/>.
/// </summary>
public interface IScenario
{
    /// <summary>Unique key, e.g. "churn-c16".</summary>
    string Name { get; }

    /// <summary>Filter key for --scenarios, e.g. "churn".</summary>
    string Group { get; }

    /// <summary>Human title for the report, e.g. "connection churn, concurrency 16".</summary>
    string Title { get; }

    /// <summary>The figures this scenario produces, in report order.</summary>
    IReadOnlyList<Metric> Metrics { get; }

    /// <summary>
    /// True when the figure needs processes that did nothing before (memory): the runner restarts the worker,
    /// and the router or HAProxy of the path, before each run.
    /// </summary>
    bool NeedsFreshProcesses { get; }

    bool AppliesTo(BenchPath path);

    Task<ScenarioResult> RunAsync(ScenarioContext context, BenchPath path, CancellationToken cancellationToken);
}

/// <summary>One figure. Ratios to direct are path / direct; <see cref="HigherIsBetter"/> tells how to read them.</summary>
/// <param name="DirectOnly">Measured on the direct path only (e.g. against a server inside the benchmark, which no other
/// path leads to): other paths show a dash, not a failure.</param>
public sealed record Metric(string Key, string Label, string Unit, bool HigherIsBetter, bool HasDirectRatio = true,
    string Format = "N0", bool DirectOnly = false);

public sealed record ScenarioContext(BenchmarkOptions Options, PortShareTopology Topology, Action<string> Log);

/// <summary>What one run of a scenario on one path measured, and how many of its operations failed.</summary>
public sealed class ScenarioResult
{
    public Dictionary<string, double> Values { get; } = [];
    public Dictionary<string, double> Extra { get; } = [];
    public long Operations { get; set; }
    public long Errors { get; set; }
    public List<string> ErrorSamples { get; } = [];
    public List<string> Notes { get; } = [];

    public ScenarioResult WithErrors(ErrorLog errors)
    {
        Errors += errors.Count;
        ErrorSamples.AddRange(errors.Samples);
        return this;
    }
}
