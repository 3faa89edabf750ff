namespace AkkaPortShare.TestSupport.Fuzz.Live;

/// <summary>Open descriptors and resident memory of a process, from /proc (Linux).</summary>
public readonly record struct ProcessSample(int OpenDescriptors, long ResidentBytes)
{
    public static ProcessSample Of(int pid) =>
        new(Processes.ProcessStats.OpenDescriptors(pid), Processes.ProcessStats.ResidentBytes(pid));

    public override string ToString() => $"{OpenDescriptors} fds, RSS {ResidentBytes / (1024.0 * 1024):F1} MiB";
}

public static class Percentiles
{
    /// <summary>The p-th percentile (nearest rank) of <paramref name="values"/>, or zero when empty.</summary>
    public static TimeSpan Of(IReadOnlyList<TimeSpan> values, double p)
    {
        if (values.Count == 0) return TimeSpan.Zero;
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static string Summary(IReadOnlyList<TimeSpan> values) =>
        values.Count == 0 ? "no samples"
            : $"p50 {Ms(Of(values, 50))}, p99 {Ms(Of(values, 99))}, max {Ms(values.Max())} ({values.Count} samples)";

    public static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:F1} ms";
}
