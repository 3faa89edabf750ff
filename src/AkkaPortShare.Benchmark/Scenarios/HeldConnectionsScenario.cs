using System.Diagnostics;
using System.Net.Sockets;
using AkkaPortShare.Benchmark.Load;
using AkkaPortShare.Benchmark.Topology;

namespace AkkaPortShare.Benchmark.Scenarios;

/// <summary>
/// Many connections: opens N sessions (connect, preamble, PreambleAck: routed and owned by the worker) and holds
/// them, then reads the resident memory (VmRSS) of the process in front of the worker (router or HAProxy) and of
/// the worker, on fresh processes after a short warm-up. The figure is the slope: RSS growth per connection while
/// the second half of the N is opened (a fresh process's one-off growth — GC budget, pools, code — lands in the
/// first half; state held per connection grows the same in both). The growth over all N from the baseline is in
/// the JSON too. A sample of the held sessions must still echo before all are closed with End.
/// </summary>
public sealed class HeldConnectionsScenario : IScenario
{
    public string Name => "held";
    public string Group => "held";
    public string Title => "many connections held open";
    public bool NeedsFreshProcesses => true;

    public IReadOnlyList<Metric> Metrics { get; } =
    [
        new("front_kib_per_conn", "router / HAProxy RSS per held connection", "KiB, slope", HigherIsBetter: false,
            HasDirectRatio: false, Format: "N1"),
        new("worker_kib_per_conn", "worker RSS per held connection", "KiB, slope", HigherIsBetter: false, Format: "N1"),
        new("front_fds_per_conn", "router / HAProxy descriptors per held connection", "fds", HigherIsBetter: false,
            HasDirectRatio: false, Format: "N2"),
    ];

    public bool AppliesTo(BenchPath path) => !path.IsFloor; // the floor is a yardstick for churn only

    public async Task<ScenarioResult> RunAsync(ScenarioContext context, BenchPath path, CancellationToken ct)
    {
        var options = context.Options;
        var topology = context.Topology;
        var endPoint = topology.EndPointOf(path);
        var records = new ClientRecords(topology.Via, 64);
        var errors = new ErrorLog();
        var result = new ScenarioResult();
        var target = HeldConnectionLimit(options.HeldConnections, path, out var capNote);
        if (capNote is not null) result.Notes.Add(capNote);
        var sockets = new Socket?[target];
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        hardStop.CancelAfter(options.HeldOpenTimeout * 2 + TimeSpan.FromSeconds(30));

        try
        {
            // Warm-up on the fresh processes, so the baseline includes the code and pools every connection uses.
            var warm = Math.Min(500, Math.Max(20, target / 20));
            var warmSockets = new Socket?[warm];
            await OpenAsync(warmSockets.AsMemory(), endPoint, records, options, errors, hardStop.Token);
            await CloseAsync(warmSockets, errors, hardStop.Token);
            await Task.Delay(options.HeldSettle, ct);

            var front = topology.FrontOf(path);
            var worker = topology.Worker;
            long frontBefore = front?.ResidentBytes() ?? 0, workerBefore = worker.ResidentBytes();
            var frontFdsBefore = front is null ? 0 : ProcessStats.OpenDescriptors(front.Id);
            await PauseForProfilerAsync(options, "baseline", path, front, worker, ct);

            // Two steps, half and all: growth from held state is linear in the count, while a fresh process's
            // one-off growth (GC budget, pools, code) mostly lands in the first half.
            var opening = Stopwatch.StartNew();
            var half = target / 2;
            var openedHalf = await OpenAsync(sockets.AsMemory(0, half), endPoint, records, options, errors, hardStop.Token);
            await Task.Delay(options.HeldSettle, ct);
            long frontHalf = front?.ResidentBytes() ?? 0, workerHalf = worker.ResidentBytes();
            var opened = openedHalf + await OpenAsync(sockets.AsMemory(half), endPoint, records, options, errors, hardStop.Token);
            opening.Stop();
            await Task.Delay(options.HeldSettle, ct);
            long frontHeld = front?.ResidentBytes() ?? 0, workerHeld = worker.ResidentBytes();
            var frontFdsHeld = front is null ? 0 : ProcessStats.OpenDescriptors(front.Id);
            await PauseForProfilerAsync(options, $"{opened:N0} held", path, front, worker, ct);

            // The held sessions must still work: every 100th echoes once.
            var scratch = new byte[256];
            for (var i = 0; i < sockets.Length; i += 100)
            {
                if (sockets[i] is not { } socket) continue;
                try { await Wire.EchoAsync(socket, records, scratch, hardStop.Token); }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested) { errors.Add(e); }
            }

            result.Operations = opened;
            var secondHalf = opened - openedHalf;
            if (secondHalf > 0)
            {
                // The figure: the slope, growth per connection over the second half.
                if (front is not null) result.Values["front_kib_per_conn"] = (frontHeld - frontHalf) / 1024.0 / secondHalf;
                // Descriptors are state the kernel charges to the process (socket buffers are not in its RSS).
                if (front is not null) result.Values["front_fds_per_conn"] = (frontFdsHeld - frontFdsBefore) / (double)opened;
                result.Values["worker_kib_per_conn"] = (workerHeld - workerHalf) / 1024.0 / secondHalf;
            }
            if (opened > 0)
            {
                // For the record: all growth from the warmed-up baseline, one-off growth included.
                if (front is not null) result.Extra["front_kib_per_conn_total"] = (frontHeld - frontBefore) / 1024.0 / opened;
                result.Extra["worker_kib_per_conn_total"] = (workerHeld - workerBefore) / 1024.0 / opened;
            }
            if (opened < target) errors.Add($"only {opened} of {target} connections opened within {options.HeldOpenTimeout}");
            result.Extra["held"] = opened;
            result.Extra["open_seconds"] = opening.Elapsed.TotalSeconds;
            result.Extra["front_rss_half_mib"] = frontHalf / 1048576.0;
            result.Extra["worker_rss_half_mib"] = workerHalf / 1048576.0;
            result.Extra["front_rss_before_mib"] = frontBefore / 1048576.0;
            result.Extra["front_fds_before"] = frontFdsBefore;
            result.Extra["front_fds_held"] = frontFdsHeld;
            result.Extra["front_rss_held_mib"] = frontHeld / 1048576.0;
            result.Extra["worker_rss_before_mib"] = workerBefore / 1048576.0;
            result.Extra["worker_rss_held_mib"] = workerHeld / 1048576.0;
        }
        finally
        {
            await CloseAsync(sockets, errors, hardStop.Token);
        }
        return result.WithErrors(errors);
    }

    /// <summary>
    /// --held-pause: waits (printing the process ids) so a profiler can look at the processes, e.g. the router's
    /// managed heap with dotnet-trace's System.Runtime counters. RSS alone cannot tell held state from garbage the GC
    /// has not collected yet, nor from memory it keeps committed for reuse.
    /// </summary>
    private static async Task PauseForProfilerAsync(BenchmarkOptions options, string what, BenchPath path, ManagedProcess? front,
        ManagedProcess worker, CancellationToken ct)
    {
        if (options.HeldPause <= TimeSpan.Zero) return;
        Console.WriteLine($"Pausing {options.HeldPause.TotalSeconds:0} s at {what} on {path.Label}: " +
            (front is null ? "" : $"{front.Name} pid {front.Id}, ") + $"worker pid {worker.Id}");
        await Task.Delay(options.HeldPause, ct);
    }

    /// <summary>
    /// Opens sessions into every slot, a bounded number at a time; bounded in time by HeldOpenTimeout.
    /// Returns how many are open.
    /// </summary>
    private static async Task<int> OpenAsync(Memory<Socket?> slots, System.Net.IPEndPoint endPoint, ClientRecords records,
        BenchmarkOptions options, ErrorLog errors, CancellationToken ct)
    {
        var next = -1;
        var opened = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(options.HeldOpenTimeout.TotalSeconds * Stopwatch.Frequency);
        async Task Opener()
        {
            var scratch = new byte[64];
            int i;
            while ((i = Interlocked.Increment(ref next)) < slots.Length && Stopwatch.GetTimestamp() < deadline && errors.Count < 100)
            {
                var socket = Wire.NewSocket();
                try
                {
                    await Wire.OpenSessionAsync(socket, endPoint, records, scratch, ct).ConfigureAwait(false);
                    slots.Span[i] = socket;
                    Interlocked.Increment(ref opened);
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    socket.Dispose();
                    errors.Add(e);
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, options.HeldOpenConcurrency).Select(_ => Task.Run(Opener, CancellationToken.None)));
        return opened;
    }

    /// <summary>Ends every open session with End (answered by End) and closes it.</summary>
    private static async Task CloseAsync(Socket?[] slots, ErrorLog errors, CancellationToken ct)
    {
        var next = -1;
        async Task Closer()
        {
            var scratch = new byte[64];
            int i;
            while ((i = Interlocked.Increment(ref next)) < slots.Length)
            {
                if (slots[i] is not { } socket) continue;
                slots[i] = null;
                try { await Wire.CloseSessionAsync(socket, scratch, ct).ConfigureAwait(false); }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested) { errors.Add(e); }
                finally { socket.Dispose(); }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(Closer, CancellationToken.None)));
    }

    /// <summary>
    /// A relaying router and HAProxy hold two descriptors per connection; every process here inherits this
    /// process's RLIMIT_NOFILE (run.sh raises it as far as it may). Caps N below the limit and says so.
    /// </summary>
    private static int HeldConnectionLimit(int requested, BenchPath path, out string? note)
    {
        note = null;
        if (OpenFileLimit() is not { } limit) return requested;
        var perConnection = path.Name == BenchPath.Relay.Name || path.Name == BenchPath.Haproxy.Name ? 2 : 1;
        var allowed = (int)Math.Max(10, (limit - 1024) / perConnection);
        if (requested <= allowed) return requested;
        note = $"{path.Label}: {allowed:N0} held connections, not {requested:N0}: it needs {perConnection} descriptors per " +
            $"connection and the open-file limit here is {limit:N0} (run.sh could not raise it further)";
        return allowed;
    }

    /// <summary>The soft RLIMIT_NOFILE of this process (children inherit it), or null when unknown or unlimited.</summary>
    public static long? OpenFileLimit()
    {
        try
        {
            var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            var soft = line?["Max open files".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            return soft is null or "unlimited" ? null : long.Parse(soft);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
