using System.Diagnostics;
using System.Net;
using AkkaPortShare.Benchmark.Load;
using AkkaPortShare.Benchmark.Topology;

namespace AkkaPortShare.Benchmark.Scenarios;

/// <summary>
/// Connection churn: each of <c>concurrency</c> loops connects, sends the preamble, waits for PreambleAck, has one
/// small envelope echoed, sends End, waits for End and closes, then starts over. Connections per second over the
/// measured window, and the latency of whole connections (connect to close) at p50 and p99. With <c>tls</c> each
/// connection is the real WCF client's instead (<see cref="TlsChurnClient"/>: open with the TLS handshake, one Echo,
/// close) against the worker's Transport-secured WCF echo endpoint.
/// </summary>
public sealed class ChurnScenario(int concurrency, bool showCpu, bool tls = false) : IScenario
{
    private const int MaxErrors = 1000;

    public string Name => $"churn-c{concurrency}";
    public string Group => "churn";
    public string Title => $"connection churn, concurrency {concurrency}" + (tls ? " (TLS)" : "");
    public bool NeedsFreshProcesses => false;

    private static readonly Metric[] Figures =
    [
        new("conn_per_s", "connections/s", "conn/s", HigherIsBetter: true),
        new("p50_ms", "latency p50", "ms", HigherIsBetter: false, Format: "N2"),
        new("p99_ms", "latency p99", "ms", HigherIsBetter: false, Format: "N2"),
    ];

    // CPU time per connection, read from /proc: steadier than rates on a shared machine (it does not count the
    // time a process waits for a core), and it shows where the cost of a path is.
    private static readonly Metric[] CpuFigures =
    [
        new("front_cpu_us", "router / HAProxy CPU per connection", "µs", HigherIsBetter: false, HasDirectRatio: false),
        new("worker_cpu_us", "worker CPU per connection", "µs", HigherIsBetter: false),
    ];

    public IReadOnlyList<Metric> Metrics => showCpu ? [.. Figures, .. CpuFigures] : Figures;

    public bool AppliesTo(BenchPath path) => !(tls && path.IsFloor); // the floor speaks no TLS

    public async Task<ScenarioResult> RunAsync(ScenarioContext context, BenchPath path, CancellationToken ct)
    {
        var options = context.Options;
        var endPoint = context.Topology.EndPointOf(path);
        var records = new ClientRecords(context.Topology.Via, options.ChurnPayloadSize);
        var errors = new ErrorLog();
        using var tlsClient = tls
            ? new TlsChurnClient(context.Topology.TlsAddressOf(path), context.Topology.ServerCertificate, options.ChurnPayloadSize)
            : null;
        Func<byte[], CancellationToken, Task<long>> connection = tlsClient is null
            ? (scratch, token) => RawConnectionAsync(endPoint, records, scratch, token)
            : (_, _) => TlsConnectionAsync(tlsClient);

        // Warm-up: same loop, its durations overwritten (JIT tiers, pools, caches on every process of the path).
        var durations = new long[options.ChurnMaxConnections];
        var untilAck = new long[options.ChurnMaxConnections];
        await RunLoopsAsync(connection, records, concurrency, options.Warmup, durations, untilAck, errors, ct);

        var front = context.Topology.FrontOf(path);
        var worker = context.Topology.WorkerOf(path);
        var (frontCpu0, workerCpu0) = (front?.CpuTime(), worker.CpuTime());
        var (completed, elapsed) = await RunLoopsAsync(connection, records, concurrency, options.ChurnDuration, durations,
            untilAck, errors, ct);
        var (frontCpu1, workerCpu1) = (front?.CpuTime(), worker.CpuTime());

        var result = new ScenarioResult { Operations = completed }.WithErrors(errors);
        if (completed == 0) return result;
        var measured = durations.AsSpan(0, (int)completed);
        measured.Sort();
        result.Values["conn_per_s"] = completed / elapsed.TotalSeconds;
        if (frontCpu1 - frontCpu0 is { } frontCpu) result.Values["front_cpu_us"] = frontCpu.TotalMicroseconds / completed;
        if (workerCpu1 - workerCpu0 is { } workerCpu) result.Values["worker_cpu_us"] = workerCpu.TotalMicroseconds / completed;
        result.Values["p50_ms"] = TicksToMs(Percentile(measured, 0.50));
        result.Values["p99_ms"] = TicksToMs(Percentile(measured, 0.99));
        // Connect to PreambleAck: the part a router or proxy adds to; the rest is the same worker on every path.
        var acks = untilAck.AsSpan(0, (int)completed);
        acks.Sort();
        result.Extra["ack_p50_ms"] = TicksToMs(Percentile(acks, 0.50));
        result.Extra["ack_p99_ms"] = TicksToMs(Percentile(acks, 0.99));
        result.Extra["p90_ms"] = TicksToMs(Percentile(measured, 0.90));
        result.Extra["p999_ms"] = TicksToMs(Percentile(measured, 0.999));
        result.Extra["max_ms"] = TicksToMs(measured[^1]);
        long sum = 0;
        foreach (var d in measured) sum += d;
        result.Extra["mean_ms"] = TicksToMs(sum / measured.Length);
        return result;
    }

    /// <summary>
    /// Runs the loops until <paramref name="duration"/> has passed or <paramref name="durations"/> is full (bounded in
    /// time and count); connections that started before the deadline finish. Returns how many completed, and the
    /// time from the start until the last one finished.
    /// </summary>
    private static async Task<(long Completed, TimeSpan Elapsed)> RunLoopsAsync(
        Func<byte[], CancellationToken, Task<long>> connection, ClientRecords records,
        int concurrency, TimeSpan duration, long[] durations, long[] untilAck, ErrorLog errors, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        // A connection that hangs is cut off (and counted as an error) 10 s after the deadline.
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        hardStop.CancelAfter(duration + TimeSpan.FromSeconds(10));
        long started = 0, completed = 0;

        async Task Loop()
        {
            var scratch = new byte[Math.Max(records.Envelope.Length, 64)];
            while (!hardStop.IsCancellationRequested && Stopwatch.GetTimestamp() < deadline && errors.Count < MaxErrors)
            {
                if (Interlocked.Increment(ref started) > durations.Length) return;
                var t0 = Stopwatch.GetTimestamp();
                long acked;
                try
                {
                    acked = await connection(scratch, hardStop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    errors.Add(e);
                    await Task.Delay(10, CancellationToken.None).ConfigureAwait(false); // no hot spin on a refusing port
                    continue;
                }
                var i = Interlocked.Increment(ref completed) - 1;
                durations[i] = Stopwatch.GetTimestamp() - t0;
                untilAck[i] = acked - t0;
            }
        }

        var loops = new Task[concurrency];
        for (var i = 0; i < concurrency; i++) loops[i] = Task.Run(Loop, CancellationToken.None);
        await Task.WhenAll(loops).ConfigureAwait(false);
        return (Interlocked.Read(ref completed), Stopwatch.GetElapsedTime(start));
    }

    // One raw framing connection: connect, preamble, PreambleAck, one echoed envelope, End both ways. Returns when
    // the PreambleAck came (a Stopwatch timestamp).
    private static async Task<long> RawConnectionAsync(IPEndPoint endPoint, ClientRecords records, byte[] scratch,
        CancellationToken ct)
    {
        using var socket = Wire.NewSocket();
        await Wire.OpenSessionAsync(socket, endPoint, records, scratch, ct).ConfigureAwait(false);
        var acked = Stopwatch.GetTimestamp();
        await Wire.EchoAsync(socket, records, scratch, ct).ConfigureAwait(false);
        await Wire.CloseSessionAsync(socket, scratch, ct).ConfigureAwait(false);
        return acked;
    }

    // One WCF connection over TLS; "acked" is when the channel was open (handshake and PreambleAck done). The WCF
    // client's own timeouts (10 s) bound it instead of the token.
    private static async Task<long> TlsConnectionAsync(TlsChurnClient client)
    {
        var channel = await client.OpenAsync().ConfigureAwait(false);
        var acked = Stopwatch.GetTimestamp();
        await client.EchoAndCloseAsync(channel).ConfigureAwait(false);
        return acked;
    }

    // Nearest-rank percentile of sorted values.
    private static long Percentile(ReadOnlySpan<long> sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double TicksToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
