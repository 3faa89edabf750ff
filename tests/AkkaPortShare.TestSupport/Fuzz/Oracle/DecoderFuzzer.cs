using System.Collections.Concurrent;
using System.Diagnostics;
using AkkaPortShare.TestSupport.Fuzz.Cases;

namespace AkkaPortShare.TestSupport.Fuzz.Oracle;

public sealed record DecoderFuzzReport(long Cases, TimeSpan Elapsed, IReadOnlyDictionary<string, long> ByVerdict,
    long Generated, long Mutated, IReadOnlyList<string> Failures)
{
    public override string ToString() =>
        $"decoder: {Cases:N0} cases ({Generated:N0} generated, {Mutated:N0} mutated) in {Elapsed.TotalSeconds:F1} s, {Failures.Count} failures\n" +
        string.Join("\n", ByVerdict.OrderByDescending(v => v.Value).Select(v => $"  {v.Key,-34} {v.Value,10:N0}"));
}

/// <summary>Runs <see cref="DecoderChecks"/> over cases [first, first + count) of a corpus, on every core.</summary>
public static class DecoderFuzzer
{
    public static DecoderFuzzReport Run(CaseSource source, long first, long count, int maxFailures = 20)
    {
        var clock = Stopwatch.StartNew();
        var verdicts = new ConcurrentDictionary<string, long>();
        var failures = new ConcurrentQueue<string>();
        long generated = 0, mutated = 0;
        Parallel.For(0, Environment.ProcessorCount, worker =>
        {
            var checks = new DecoderChecks(source.Target);
            var local = new Dictionary<string, long>();
            long g = 0, m = 0;
            for (var i = first + worker; i < first + count; i += Environment.ProcessorCount)
            {
                var c = source.Case(i);
                if (c.Intended is null) m++; else g++;
                var random = new Random((int)i);
                var failure = checks.Check(c, random, out var state);
                var key = state.Verdict.ToString();
                local[key] = local.GetValueOrDefault(key) + 1;
                if (failure is not null && failures.Count < maxFailures) failures.Enqueue($"seed {source.Seed} {c}: {failure}");
            }
            foreach (var (k, v) in local) verdicts.AddOrUpdate(k, v, (_, old) => old + v);
            Interlocked.Add(ref generated, g);
            Interlocked.Add(ref mutated, m);
        });
        return new DecoderFuzzReport(count, clock.Elapsed, verdicts, generated, mutated, failures.ToList());
    }
}
