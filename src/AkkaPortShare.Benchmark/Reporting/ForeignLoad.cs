using System.Globalization;

namespace AkkaPortShare.Benchmark.Reporting;

/// <summary>
/// How busy the machine was with OTHER work while a figure was measured: CPU time the whole machine used
/// (/proc/stat) minus what the benchmark's own processes used (/proc/PID/stat), as a share of all cores. On a
/// shared machine this says which figures to trust; on a dedicated one it stays near 0.
/// </summary>
public sealed class ForeignLoad
{
    private readonly Func<IEnumerable<int>> _ownPids;
    private double _machineBusy;
    private double _ownBusy;
    private double _wall;

    private ForeignLoad(Func<IEnumerable<int>> ownPids)
    {
        _ownPids = ownPids;
        (_machineBusy, _wall) = MachineBusySeconds();
        _ownBusy = OwnSeconds();
    }

    /// <summary>Starts a measurement; <paramref name="ownPids"/> lists the benchmark's processes (read at both ends).</summary>
    public static ForeignLoad Start(Func<IEnumerable<int>> ownPids) => new(ownPids);

    /// <summary>
    /// Since <see cref="Start"/>: the share of the machine's cores (0–1) used by other processes, and the share busy
    /// with anything (the benchmark's processes included).
    /// </summary>
    public (double Other, double Machine) Stop()
    {
        var (busy, wall) = MachineBusySeconds();
        var own = OwnSeconds();
        var capacity = (wall - _wall) * Environment.ProcessorCount;
        if (!(capacity > 0)) return (double.NaN, double.NaN);
        return (Math.Clamp((busy - _machineBusy - (own - _ownBusy)) / capacity, 0, 1),
            Math.Clamp((busy - _machineBusy) / capacity, 0, 1));
    }

    /// <summary>Share of the machine (0–1) that is busy right now, sampled over <paramref name="window"/>.</summary>
    public static async Task<double> MachineBusyShareAsync(TimeSpan window)
    {
        var (b0, w0) = MachineBusySeconds();
        await Task.Delay(window);
        var (b1, w1) = MachineBusySeconds();
        var capacity = (w1 - w0) * Environment.ProcessorCount;
        return capacity <= 0 ? double.NaN : Math.Clamp((b1 - b0) / capacity, 0, 1);
    }

    private double OwnSeconds()
    {
        var total = ProcessSeconds(Environment.ProcessId);
        foreach (var pid in _ownPids()) total += ProcessSeconds(pid);
        return total;
    }

    // /proc/stat "cpu" line: user nice system idle iowait irq softirq steal. Busy = user + nice + system + steal:
    // interrupt and softirq time (where loopback TCP of our own connections is processed) is charged to no
    // process, so it is left out rather than counted as someone else's.
    private static (double Busy, double Wall) MachineBusySeconds()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
            var busy = v[0] + v[1] + v[2] + (v.Length > 7 ? v[7] : 0);
            return (busy / 100.0, System.Diagnostics.Stopwatch.GetTimestamp() / (double)System.Diagnostics.Stopwatch.Frequency);
        }
        catch (Exception e) when (e is IOException or FormatException or InvalidOperationException)
        {
            return (double.NaN, double.NaN);
        }
    }

    private static double ProcessSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
