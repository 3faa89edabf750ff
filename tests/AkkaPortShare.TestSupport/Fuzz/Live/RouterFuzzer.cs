using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using AkkaPortShare.TestSupport.Fuzz.Cases;
using AkkaPortShare.TestSupport.Fuzz.Oracle;

namespace AkkaPortShare.TestSupport.Fuzz.Live;

public sealed record RouterFuzzOptions(IPEndPoint Router, FuzzTarget Target, int Seed, long First, long Cases)
{
    public int Concurrency { get; init; } = 16;

    /// <summary>A legitimate session is started after every this many cases; each must be served.</summary>
    public int ProbeEvery { get; init; } = 1000;

    /// <summary>A case that has not ended after this long is a hang.</summary>
    public TimeSpan CaseTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int SourceAddresses { get; init; } = 1;

    public int MaxFailuresShown { get; init; } = 20;

    public Action<string>? Progress { get; init; }

    public TimeSpan ProgressEvery { get; init; } = TimeSpan.FromSeconds(30);
}

public sealed record RouterFuzzReport(long Cases, TimeSpan Elapsed, IReadOnlyDictionary<string, long> ByOutcome,
    long MatchedPrimary, long MatchedAlternative, long Mismatches, long Hangs, long ConnectFailures,
    int Probes, int ProbesFailed, IReadOnlyList<TimeSpan> ProbeLatencies, IReadOnlyList<string> Failures)
{
    public bool Passed => Mismatches == 0 && Hangs == 0 && ConnectFailures == 0 && ProbesFailed == 0 && Probes > 0;

    public override string ToString() =>
        $"router: {Cases:N0} cases in {Elapsed.TotalSeconds:F1} s ({Cases / Math.Max(Elapsed.TotalSeconds, 0.001):N0}/s): " +
        $"{MatchedPrimary:N0} answered as the oracle expects, {MatchedAlternative:N0} as expected for a split read, " +
        $"{Mismatches} wrong, {Hangs} hangs, {ConnectFailures} connect failures\n" +
        string.Join("\n", ByOutcome.OrderByDescending(o => o.Value).Select(o => $"  {o.Key,-34} {o.Value,10:N0}")) +
        $"\n  legitimate client: {Probes - ProbesFailed}/{Probes} sessions served, {Percentiles.Summary(ProbeLatencies)}" +
        (Failures.Count > 0 ? "\n  " + string.Join("\n  ", Failures) : "");
}

/// <summary>
/// Fires fuzz cases at a live router, one connection each, several at a time, and checks every answer against
/// <see cref="RouterOracle"/>; meanwhile a legitimate client runs a whole session after every N cases and must be
/// served each time. The router must have one worker registered at <see cref="FuzzTarget.RegisteredAddress"/>
/// that echoes messages (the sample echo worker).
/// </summary>
public static class RouterFuzzer
{
    public static async Task<RouterFuzzReport> RunAsync(CaseSource source, RouterFuzzOptions options, CancellationToken cancellation = default)
    {
        var clients = new LoopbackClients(options.Router, options.SourceAddresses);
        var oracle = new ThreadLocal<RouterOracle>(() => new RouterOracle(source.Target));
        var outcomes = new ConcurrentDictionary<string, long>();
        var failures = new ConcurrentQueue<string>();
        var probeLatencies = new ConcurrentBag<TimeSpan>();
        var probes = new List<Task>();
        long primary = 0, alternative = 0, mismatches = 0, hangs = 0, connectFailures = 0, done = 0;
        int probesFailed = 0;
        var clock = Stopwatch.StartNew();

        void Fail(string text)
        {
            if (failures.Count < options.MaxFailuresShown) failures.Enqueue(text);
        }

        var queue = Channel.CreateBounded<long>(options.Concurrency * 4);
        var producer = Task.Run(async () =>
        {
            var lastProgress = clock.Elapsed;
            for (var i = options.First; i < options.First + options.Cases && !cancellation.IsCancellationRequested; i++)
            {
                await queue.Writer.WriteAsync(i, cancellation).ConfigureAwait(false);
                if ((i - options.First) % options.ProbeEvery == 0)
                {
                    var n = probes.Count;
                    probes.Add(Task.Run(async () =>
                    {
                        try
                        {
                            var timing = await SessionClient.RunAsync(clients, source.Target.LegitimateVia, $"probe {n}", options.ProbeTimeout)
                                .ConfigureAwait(false);
                            probeLatencies.Add(timing.Total);
                        }
                        catch (Exception e)
                        {
                            Interlocked.Increment(ref probesFailed);
                            Fail($"legitimate session {n} (after case {i}) was not served: {e.GetType().Name}: {e.Message}");
                        }
                    }, CancellationToken.None));
                }
                if (options.Progress is { } progress && clock.Elapsed - lastProgress >= options.ProgressEvery)
                {
                    lastProgress = clock.Elapsed;
                    progress($"{Interlocked.Read(ref done):N0} cases, {clock.Elapsed.TotalSeconds:F0} s, {Interlocked.Read(ref mismatches)} wrong, " +
                             $"{Interlocked.Read(ref hangs)} hangs, {probeLatencies.Count}/{probes.Count} legitimate sessions served");
                }
            }
            queue.Writer.Complete();
        }, CancellationToken.None);

        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            await foreach (var index in queue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                var c = source.Case(index);
                var (expected, alt) = oracle.Value!.Expect(c.Bytes);
                Outcome outcome;
                try
                {
                    using var socket = await clients.ConnectAsync(cancellation).ConfigureAwait(false);
                    outcome = await Outcome.ExchangeAsync(socket, c.Bytes, options.CaseTimeout).ConfigureAwait(false);
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException)
                {
                    Interlocked.Increment(ref connectFailures);
                    Fail($"seed {source.Seed} {c}: connect failed: {e.Message}");
                    continue;
                }
                finally
                {
                    Interlocked.Increment(ref done);
                }
                outcomes.AddOrUpdate(outcome.ToString(), 1, (_, n) => n + 1);
                if (outcome.Kind == "hang")
                {
                    Interlocked.Increment(ref hangs);
                    Fail($"seed {source.Seed} {c}: no answer and no close within {options.CaseTimeout.TotalSeconds} s (expected {expected})");
                }
                else if (outcome.Matches(expected)) Interlocked.Increment(ref primary);
                else if (alt is { } a && outcome.Matches(a)) Interlocked.Increment(ref alternative);
                else
                {
                    Interlocked.Increment(ref mismatches);
                    Fail($"seed {source.Seed} {c}: got {outcome}, expected {expected}{(alt is { } a2 ? $" or {a2}" : "")}");
                }
            }
        }, CancellationToken.None)).ToArray();

        await producer.ConfigureAwait(false);
        await Task.WhenAll(workers).ConfigureAwait(false);
        // One last legitimate session after the storm, then wait for every probe.
        probes.Add(Task.Run(async () =>
        {
            try
            {
                probeLatencies.Add((await SessionClient.RunAsync(clients, source.Target.LegitimateVia, "final probe", options.ProbeTimeout)
                    .ConfigureAwait(false)).Total);
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref probesFailed);
                Fail($"the final legitimate session was not served: {e.Message}");
            }
        }, CancellationToken.None));
        await Task.WhenAll(probes).ConfigureAwait(false);
        return new RouterFuzzReport(Interlocked.Read(ref done), clock.Elapsed, outcomes, primary, alternative, mismatches, hangs,
            connectFailures, probes.Count, probesFailed, probeLatencies.ToList(), failures.ToList());
    }
}
