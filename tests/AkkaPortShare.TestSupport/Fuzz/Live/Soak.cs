using System.Diagnostics;
using System.Net;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.TestSupport.Fuzz.Cases;

namespace AkkaPortShare.TestSupport.Fuzz.Live;

public sealed record SoakOptions(IPEndPoint Router, FuzzTarget Target, long Connections, int RouterPid)
{
    public int? WorkerPid { get; init; }
    public int Concurrency { get; init; } = 16;
    public TimeSpan SampleEvery { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromMinutes(60);
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(3);
    public int SourceAddresses { get; init; } = 4;
    public Action<string>? Progress { get; init; }
}

public sealed record SoakSample(TimeSpan At, long Connections, ProcessSample Router, ProcessSample? Worker)
{
    public override string ToString() =>
        $"{At.TotalSeconds,7:F0} s {Connections,10:N0} conns  router {Router}" + (Worker is { } w ? $"  worker {w}" : "");
}

public sealed record SoakReport(long Connections, long Failed, TimeSpan Elapsed, bool TimedOut, SoakSample Before, SoakSample WarmedUp,
    SoakSample After, IReadOnlyList<SoakSample> Samples, IReadOnlyList<string> Errors)
{
    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024):F1} MiB";

    public ProcessSample RouterPeak => new(Samples.Max(s => s.Router.OpenDescriptors), Samples.Max(s => s.Router.ResidentBytes));

    public override string ToString() =>
        $"soak: {Connections:N0} connections in {Elapsed.TotalSeconds:F0} s ({Connections / Math.Max(1, Elapsed.TotalSeconds):N0}/s), {Failed} failed" +
        (TimedOut ? " (stopped at max duration)" : "") + "\n" +
        $"  router: before {Before.Router}; after warm-up ({WarmedUp.Connections:N0}) {WarmedUp.Router}; peak {RouterPeak}; after, settled {After.Router}\n" +
        $"  router RSS after warm-up → end: {Mib(WarmedUp.Router.ResidentBytes)} → {Mib(After.Router.ResidentBytes)}; " +
        $"descriptors {Before.Router.OpenDescriptors} → {After.Router.OpenDescriptors}" +
        (Before.Worker is { } wb && After.Worker is { } wa
            ? $"\n  worker: before {wb}; after warm-up {WarmedUp.Worker}; after, settled {wa}" : "") +
        "\n  samples:\n    " + string.Join("\n    ", Samples) +
        (Errors.Count > 0 ? "\n  " + string.Join("\n  ", Errors.Take(10)) : "");
}

/// <summary>
/// A long bounded run of connections through the shared port, mostly whole sessions to the echo worker, one in
/// twenty for an unknown address (EndpointNotFound) and one in twenty garbage (closed), sampling the router's
/// (and the worker's) descriptors and resident memory as it goes.
/// </summary>
public static class Soak
{
    public static async Task<SoakReport> RunAsync(SoakOptions options)
    {
        var clients = new LoopbackClients(options.Router, options.SourceAddresses);
        var clock = Stopwatch.StartNew();
        var samples = new List<SoakSample>();
        var errors = new List<string>();
        long done = 0, failed = 0, next = -1;
        SoakSample Sample() => new(clock.Elapsed, Interlocked.Read(ref done), ProcessSample.Of(options.RouterPid),
            options.WorkerPid is { } w ? ProcessSample.Of(w) : null);

        var before = Sample();
        using var deadline = new CancellationTokenSource(options.MaxDuration);
        var unknownVia = FramingWriter.Preamble(FramingMode.Duplex, $"net.tcp://localhost:{options.Target.Port}/nobody/home");
        var garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray();

        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            while (!deadline.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= options.Connections) return;
                try
                {
                    switch (i % 20)
                    {
                        case 0:
                            await ExpectAsync(clients, unknownVia, "fault EndpointNotFound").ConfigureAwait(false);
                            break;
                        case 1:
                            await ExpectAsync(clients, garbage, "clean close", "close (reset)").ConfigureAwait(false);
                            break;
                        default:
                            await SessionClient.RunAsync(clients, options.Target.LegitimateVia, $"soak {i}", TimeSpan.FromSeconds(15))
                                .ConfigureAwait(false);
                            break;
                    }
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref failed);
                    lock (errors) if (errors.Count < 20) errors.Add($"connection {i}: {e.GetType().Name}: {e.Message}");
                }
                Interlocked.Increment(ref done);
            }
        })).ToArray();

        var warmupAt = Math.Min(options.Connections / 20, 20_000);
        SoakSample? warmedUp = null;
        var all = Task.WhenAll(workers);
        while (!all.IsCompleted)
        {
            await Task.WhenAny(all, Task.Delay(options.SampleEvery)).ConfigureAwait(false);
            var sample = Sample();
            lock (samples) samples.Add(sample);
            if (warmedUp is null && sample.Connections >= warmupAt) warmedUp = sample;
            options.Progress?.Invoke(sample + $"  failed {Interlocked.Read(ref failed)}");
        }
        await all.ConfigureAwait(false);
        await Task.Delay(options.Settle).ConfigureAwait(false);
        var after = Sample();
        samples.Add(after);
        return new SoakReport(Interlocked.Read(ref done), Interlocked.Read(ref failed), clock.Elapsed, deadline.IsCancellationRequested,
            before, warmedUp ?? samples[0], after, samples, errors);
    }

    private static async Task ExpectAsync(LoopbackClients clients, byte[] bytes, params string[] expected)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var socket = await clients.ConnectAsync(cts.Token).ConfigureAwait(false);
        var outcome = await Outcome.ExchangeAsync(socket, bytes, TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        if (!expected.Contains(outcome.ToString())) throw new InvalidDataException($"expected {string.Join(" or ", expected)}, got {outcome}");
    }
}
