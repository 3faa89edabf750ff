using System.Globalization;
using System.Text;
using System.Text.Json;
using AkkaPortShare.Benchmark.Scenarios;
using AkkaPortShare.Benchmark.Topology;

namespace AkkaPortShare.Benchmark.Reporting;

/// <summary>Writes the results as a Markdown table (printed and saved) and as JSON (every raw value too).</summary>
public sealed class ReportWriter(BenchmarkOptions options, MachineInfo machine, IReadOnlyList<IScenario> scenarios,
    IReadOnlyList<BenchPath> paths, ResultSet results, string command)
{
    private static readonly CultureInfo En = CultureInfo.InvariantCulture;

    public string Markdown()
    {
        var md = new StringBuilder();
        md.AppendLine($"Each cell: median over {options.Repetitions} repetition(s)" +
            (options.Repetitions > 1 ? " [min–max]" : "") +
            ", then (×ratio): the median of path ÷ direct, each pair from the same repetition." +
            " For latency and memory lower is better; for the rest higher is better.");
        md.AppendLine();
        md.Append("| scenario | figure |");
        foreach (var path in paths) md.Append($" {path.Label} |");
        md.AppendLine();
        md.Append("|---|---|");
        foreach (var _ in paths) md.Append("---:|");
        md.AppendLine();
        foreach (var scenario in scenarios)
        foreach (var metric in scenario.Metrics)
        {
            md.Append($"| {scenario.Title} | {metric.Label} ({metric.Unit}) |");
            foreach (var path in paths)
            {
                if (!scenario.AppliesTo(path)) { md.Append(" n/a |"); continue; }
                var s = results.Summarize(scenario, metric, path, options.Repetitions);
                md.Append(' ').Append(Cell(s, metric, path)).Append(" |");
            }
            md.AppendLine();
        }
        md.AppendLine();
        PerFigure(md);

        var failures = Failures().ToList();
        md.AppendLine(failures.Count == 0
            ? $"Every path worked: {results.Runs.Sum(r => r.Result.Operations):N0} operations, 0 errors."
            : "**Errors:** " + string.Join("; ", failures));
        var other = results.Runs.Select(r => r.OtherCpuShare).Where(v => !double.IsNaN(v)).ToList();
        if (other.Count > 0)
            md.AppendLine($"Other processes on the machine used {ResultSet.Median(other):P0} of its CPU during the measurements " +
                $"(median; at most {other.Max():P0}).");
        var notes = results.Runs.SelectMany(r => r.Result.Notes).Distinct().ToList();
        foreach (var note in notes) md.AppendLine($"Note: {note}");
        md.AppendLine();

        md.AppendLine("Aims:");
        md.AppendLine();
        foreach (var line in Aims()) md.AppendLine($"- {line}");
        md.AppendLine();
        md.AppendLine($"Machine: {machine.Describe()}. Load average (1/5/15 min) at start {machine.LoadAverageAtStart}, " +
            $"at end {machine.LoadAverageAtEnd}. Load generator, router, worker and HAProxy share these cores.");
        md.AppendLine();
        md.AppendLine($"Settings: churn {Seconds(options.ChurnDuration)} per figure after {Seconds(options.Warmup)} warm-up, " +
            $"{options.ChurnPayloadSize}-byte envelope; streaming {options.StreamConnections} connections × " +
            $"{options.StreamWindow} envelopes of {options.StreamEnvelopeSize / 1024} KiB in flight for {Seconds(options.StreamDuration)}; " +
            $"{options.HeldConnections:N0} held connections on fresh processes (memory figure: RSS growth per connection over the " +
            "second half). " + ReliableSettings() +
            (options.Tls ? " TLS (--tls): each churn connection is the real WCF client's, NetTcpBinding(SecurityMode.Transport) " +
                "with ClientCredentialType None and no connection pool (open with the TLS handshake, one Echo, close), against " +
                "the worker's WCF echo endpoint with Transport security (an ECDSA P-256 server certificate made at start); " +
                "not comparable with the rows of a run without --tls, whose connections are raw framing ones." : "") +
            (options.CrossHost ? " Cross-host (--cross-host): the worker runs in a network namespace of its own, joined to the " +
                "router's by a bridge (veth pairs), registered by secret with its hand-over socket out of the router's reach, so the " +
                "router relays to it as to another machine and HAProxy forwards to it over the same link; direct clients cross " +
                "the link too. The link is the kernel's, on the same cores: it adds the hops, not a network's latency. " +
                "net.ipv4.tcp_tw_reuse = 1 for the run (the relays close first towards the worker: see README, Cluster)." : ""));
        md.AppendLine();
        md.AppendLine($"Reproduce: `{command}`");
        return md.ToString();
    }

    /// <summary>
    /// One row per figure (scenario, its parameter, path): the value, its ratio to direct and to HAProxy, each the
    /// median [min–max] of per-repetition ratios, and the machine's load while the figure was measured.
    /// </summary>
    private void PerFigure(StringBuilder md)
    {
        var spread = options.Repetitions > 1;
        md.AppendLine($"Per figure: value, ÷ direct and ÷ HAProxy, each the median over {options.Repetitions} repetition(s)" +
            (spread ? " [min–max]" : "") + " (a ratio is taken within each repetition, then its median); load while it was " +
            "measured: the share of all cores other processes used (/proc/stat busy time minus the router's, worker's, " +
            "HAProxy's and this benchmark's /proc/PID/stat time; median" + (spread ? " [max]" : "") + "), the share of all " +
            "cores busy with anything, ours included, and the 1-minute load average at its start (medians).");
        md.AppendLine();
        md.AppendLine("| scenario | parameter | figure | path | value | ÷ direct | ÷ HAProxy | others' CPU | machine busy | load avg |");
        md.AppendLine("|---|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var scenario in scenarios)
        foreach (var metric in scenario.Metrics)
        foreach (var path in paths.Where(scenario.AppliesTo))
        {
            var s = results.Summarize(scenario, metric, path, options.Repetitions);
            if (s.Median is null && !path.HasFront && !metric.HasDirectRatio) continue; // e.g. router CPU on the direct path
            if (s.Median is null && !path.IsDirect && metric.DirectOnly) continue;
            var comma = scenario.Title.IndexOf(", ", StringComparison.Ordinal);
            var (name, parameter) = comma < 0 ? (scenario.Title, "") : (scenario.Title[..comma], scenario.Title[(comma + 2)..]);
            var value = s.Median is null ? "**failed**" : Format(s.Median, metric.Format) +
                (spread ? $" [{Format(s.Min, metric.Format)}–{Format(s.Max, metric.Format)}]" : "") + $" {metric.Unit}";
            var toDirect = path.IsDirect || !metric.HasDirectRatio ? "—" : RatioSpread(s.RatioMedian, s.RatioMin, s.RatioMax);
            var toHaproxy = path.Name == BenchPath.Haproxy.Name || !Has(BenchPath.Haproxy)
                ? "—"
                : RatioSpread(s.ToHaproxy.Median, s.ToHaproxy.Min, s.ToHaproxy.Max);
            var others = Share(s.OtherCpu.Median) + (spread && s.OtherCpu.Max is not null ? $" [{Share(s.OtherCpu.Max)}]" : "");
            md.AppendLine($"| {name} | {parameter} | {metric.Label} | {path.Label} | {value} | {toDirect} | {toHaproxy} | {others} | " +
                $"{Share(s.MachineBusy.Median)} | {Format(s.LoadAverage1m.Median, "0.0")} |");
        }
        md.AppendLine();
    }

    private string RatioSpread(double? median, double? min, double? max) =>
        median is null ? "—" : options.Repetitions > 1 ? $"{Ratio(median)} [{Ratio(min)}–{Ratio(max)}]" : Ratio(median);

    private static string Share(double? share) => share is { } v ? v.ToString("P0", En) : "—";

    public IEnumerable<string> Failures()
    {
        foreach (var path in paths)
        {
            var runs = results.Runs.Where(r => r.Path == path.Name).ToList();
            var errors = runs.Sum(r => r.Result.Errors);
            var missing = scenarios.Where(s => s.AppliesTo(path))
                .Where(s => Enumerable.Range(1, options.Repetitions).Any(rep =>
                    results.Find(s.Name, path.Name, rep) is not { } run || run.Result.Values.Count == 0))
                .Select(s => s.Name).ToList();
            if (errors == 0 && missing.Count == 0) continue;
            var samples = runs.SelectMany(r => r.Result.ErrorSamples.Select(e => $"{r.Scenario}: {e}")).Take(3);
            yield return $"{path.Label}: {errors} error(s)" +
                (missing.Count > 0 ? $", no figure for {string.Join(", ", missing)}" : "") +
                (samples.Any() ? $" (e.g. {string.Join(" | ", samples)})" : "");
        }
    }

    private IEnumerable<string> Aims()
    {
        var reps = options.Repetitions;
        var streaming = scenarios.FirstOrDefault(s => s.Group == "streaming");
        if (streaming is not null && Has(BenchPath.Handover))
        {
            var r = results.Summarize(streaming, streaming.Metrics[0], BenchPath.Handover, reps).RatioMedian;
            yield return $"Streaming through hand-over at 0.95× direct or better: {Ratio(r)} — {Verdict(r >= 0.95)}.";
        }
        if (streaming is not null && Has(BenchPath.Haproxy))
        {
            var r = results.Summarize(streaming, streaming.Metrics[0], BenchPath.Haproxy, reps).RatioMedian;
            yield return $"HAProxy streaming (the issue expects about 0.4× direct): {Ratio(r)}.";
        }
        if (Has(BenchPath.Handover) && Has(BenchPath.Haproxy))
        {
            foreach (var churn in scenarios.Where(s => s.Group == "churn"))
            {
                var r = results.PairedRatio(churn.Name, "conn_per_s", BenchPath.Handover.Name, BenchPath.Haproxy.Name, reps);
                yield return $"Churn through hand-over ahead of HAProxy ({churn.Title}): hand-over ÷ HAProxy = {Ratio(r)} — " +
                    $"{Verdict(r > 1)}.";
            }
        }
        if (Has(BenchPath.FloorDirect) && Has(BenchPath.FloorHandover) && Has(BenchPath.Handover))
        {
            foreach (var churn in scenarios.Where(s => s.Group == "churn"))
            {
                var floor = results.PairedRatio(churn.Name, "conn_per_s", BenchPath.FloorHandover.Name, BenchPath.FloorDirect.Name, reps);
                var ours = results.Summarize(churn, churn.Metrics[0], BenchPath.Handover, reps).RatioMedian;
                yield return $"The floor of hand-over ({churn.Title}): a minimal accept-read-sendmsg router in front of a minimal " +
                    $"server, ÷ that server alone = {Ratio(floor)}; with only the floor's added time per connection our worker " +
                    $"would reach {Ratio(results.FloorBound(churn.Name, reps))} direct; our hand-over ÷ direct = {Ratio(ours)}.";
            }
        }
        var held = scenarios.FirstOrDefault(s => s.Group == "held");
        if (held is not null && Has(BenchPath.Handover))
        {
            var s = results.Summarize(held, held.Metrics[0], BenchPath.Handover, reps);
            var total = ResultSet.Median(results.Runs.Where(r => r.Scenario == held.Name && r.Path == BenchPath.Handover.Name)
                .Select(r => r.Result.Extra.GetValueOrDefault("front_kib_per_conn_total", double.NaN)).Where(v => !double.IsNaN(v)).ToList());
            var relay = Has(BenchPath.Relay) ? results.Summarize(held, held.Metrics[0], BenchPath.Relay, reps).Median : null;
            var fds = results.Summarize(held, held.Metrics.First(m => m.Key == "front_fds_per_conn"), BenchPath.Handover, reps).Median;
            yield return $"Router memory does not grow with held connections after hand-over: " +
                $"{Format(s.Median, "N2")} KiB per held connection (slope; {Format(total, "N2")} KiB counting the fresh " +
                "process's one-off growth)" + (relay is not null ? $", against {Format(relay, "N1")} KiB when relaying" : "") +
                $", {Format(fds, "N2")} descriptors per held connection" +
                $" — {Verdict(s.Median is { } m && m < 1.0 && fds is not > 0.01)} (under 1 KiB per connection counts as no per-connection state)" +
                (options.HeldConnections < 5000
                    ? $". With {options.HeldConnections:N0} connections RSS mostly shows garbage the GC has not collected yet (its " +
                      "allocation budget), not held state: only the full run's 10,000 give the figure."
                    : ".");
        }
        foreach (var line in ReliableAims()) yield return line;
    }

    private string ReliableSettings()
    {
        if (!scenarios.Any(s => s.Group == "reliable")) return "Reliable sessions: not selected.";
        return $"Reliable sessions: the real WCF client (CustomBinding: ReliableSessionBindingElement with MaxTransferWindowSize = W, " +
            $"binary encoding, TCP; WS-RM February 2005), one session per figure, one-way messages of {options.RmMessageSize:N0} " +
            $"bytes for {Seconds(options.RmDuration)} after a warm-up, through the router (hand-over) and a delay relay in the " +
            "benchmark process; the worker endpoint's max-transfer-window-size is W too; flow control (BufferRemaining) " +
            $"{(options.RmFlowControl ? "on (WCF's default)" : "off")} on both ends. Goodput counts messages the service " +
            "received (PostedCount before and after). Link rate: the same flood without a reliable session over the same relay; " +
            "RTT: median small request/reply over it, so the added delay is measured, not assumed.";
    }

    // Reliable-session goodput against its bound, per (window, delay); the misses named.
    private IEnumerable<string> ReliableAims()
    {
        var goodput = scenarios.OfType<ReliableGoodputScenario>().ToList();
        if (goodput.Count == 0 || !Has(BenchPath.Handover)) yield break;
        var metric = goodput[0].Metrics.First(m => m.Key == "pct_of_bound");
        var cells = goodput.Select(s => (s, pct: results.Summarize(s, metric, BenchPath.Handover, options.Repetitions).Median)).ToList();
        var missed = cells.Where(c => c.pct is not >= 90).ToList();
        var all = string.Join(", ", cells.Select(c => $"W{c.s.Window}/+{c.s.DelayMs} ms {Format(c.pct, "N0")}%"));
        yield return $"Reliable-session goodput within 90% of min(link rate, W × message size / RTT) at every window and delay: " +
            $"{all} — {Verdict(missed.Count == 0)}" +
            (missed.Count > 0 ? $" (short: {string.Join(", ", missed.Select(c => $"W{c.s.Window}/+{c.s.DelayMs} ms"))}; see the README for why)." : ".");
    }

    public string Json()
    {
        var summaries = scenarios.SelectMany(s => s.Metrics.SelectMany(m => paths.Where(s.AppliesTo).Select(p =>
            new { scenario = s.Name, title = s.Title, metric = m.Key, label = m.Label, unit = m.Unit, higherIsBetter = m.HigherIsBetter,
                summary = results.Summarize(s, m, p, options.Repetitions) })));
        var document = new
        {
            generatedAt = DateTime.UtcNow,
            command,
            machine,
            options = new
            {
                options.Quick, options.Repetitions, warmupSeconds = options.Warmup.TotalSeconds,
                churnSeconds = options.ChurnDuration.TotalSeconds, options.ChurnConcurrency, options.ChurnPayloadSize,
                streamSeconds = options.StreamDuration.TotalSeconds, options.StreamConnections, options.StreamWindow,
                options.StreamEnvelopeSize, options.HeldConnections,
                options.RmWindows, options.RmDelaysMs, rmSeconds = options.RmDuration.TotalSeconds, options.RmMessageSize, options.RmFlowControl,
            },
            paths = paths.Select(p => new { p.Name, p.Label }),
            ok = !Failures().Any(),
            failures = Failures().ToList(),
            summaries,
            runs = results.Runs.Select(r => new
            {
                r.Scenario, r.Path, r.Repetition, r.At, r.LoadAverage1m, r.OtherCpuShare, r.MachineBusyShare, r.Result.Values, r.Result.Extra, r.Result.Operations,
                r.Result.Errors, r.Result.ErrorSamples, r.Result.Notes,
            }),
        };
        return JsonSerializer.Serialize(document, new JsonSerializerOptions
        {
            WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        });
    }

    private bool Has(BenchPath path) => paths.Any(p => p.Name == path.Name);

    private string Cell(Summary s, Metric metric, BenchPath path)
    {
        if (s.Median is null) return (!path.HasFront && !metric.HasDirectRatio) || (!path.IsDirect && metric.DirectOnly) ? "—" : "**failed**";
        var text = Format(s.Median, metric.Format);
        if (options.Repetitions > 1) text += $" [{Format(s.Min, metric.Format)}–{Format(s.Max, metric.Format)}]";
        if (!path.IsDirect && metric.HasDirectRatio) text += $" ({Ratio(s.RatioMedian)})";
        return text;
    }

    private static string Format(double? value, string format) => value is { } v ? v.ToString(format, En) : "—";
    private static string Ratio(double? r) => r is { } v ? v.ToString("0.00", En) + "×" : "—";
    private static string Verdict(bool? met) => met == true ? "met" : "**not met**";
    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", En) + " s";
}
