using System.Globalization;

namespace AkkaPortShare.Benchmark;

/// <summary>
/// Command line of the benchmark. Every load loop is bounded twice: by time (the durations here) and by count
/// (the max-* values), so neither a fast path nor a stuck one can run away.
/// </summary>
public sealed record BenchmarkOptions
{
    public bool Quick { get; init; }

    /// <summary>Churn over TLS: the worker's WCF echo endpoint with Transport security, the real WCF client.</summary>
    public bool Tls { get; init; }

    /// <summary>
    /// The worker on another (simulated) host: a network namespace of its own joined to this one by a bridge, as
    /// the cluster's tests make them; the router relays to it and HAProxy forwards to it over that link.
    /// </summary>
    public bool CrossHost { get; init; }
    public int Repetitions { get; init; } = 5;
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan ChurnDuration { get; init; } = TimeSpan.FromSeconds(3);
    public int[] ChurnConcurrency { get; init; } = [1, 16, 64];
    public int ChurnMaxConnections { get; init; } = 500_000;
    public int ChurnPayloadSize { get; init; } = 128;
    public TimeSpan StreamDuration { get; init; } = TimeSpan.FromSeconds(4);
    public int StreamConnections { get; init; } = 4;
    public int StreamEnvelopeSize { get; init; } = 64 * 1024;
    public int StreamWindow { get; init; } = 8;
    public long StreamMaxEnvelopes { get; init; } = 2_000_000;
    public int HeldConnections { get; init; } = 10_000;
    public int HeldOpenConcurrency { get; init; } = 32;
    public TimeSpan HeldOpenTimeout { get; init; } = TimeSpan.FromSeconds(120);
    public TimeSpan HeldSettle { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan HeldPause { get; init; } = TimeSpan.Zero;
    public int[] RmWindows { get; init; } = [1, 8, 64, 512];
    public int[] RmDelaysMs { get; init; } = [0, 2, 20];
    public TimeSpan RmDuration { get; init; } = TimeSpan.FromSeconds(3);
    public int RmMessageSize { get; init; } = 4096;
    public bool RmFlowControl { get; init; } = true;
    public long RmMaxMessages { get; init; } = 2_000_000;
    public TimeSpan QuietWait { get; init; } = TimeSpan.Zero;
    public double QuietThreshold { get; init; } = 0.15;
    public HashSet<string>? Paths { get; init; }
    public HashSet<string>? Scenarios { get; init; }
    public string OutputDirectory { get; init; } = "artifacts/benchmark";
    public string? RouterDll { get; init; }

    /// <summary>The router's relay-engine for the relay path (splice, copy); null: the router's default.</summary>
    public string? RelayEngine { get; init; }

    /// <summary>More router settings (HOCON inside akka-port-share.router), e.g. "relay-buffer-size = 256k".</summary>
    public string? RouterSettings { get; init; }

    /// <summary>More worker configuration (whole HOCON paths), e.g. "akka.actor.default-dispatcher.throughput = 10".</summary>
    public string? WorkerSettings { get; init; }
    public string? WorkerDll { get; init; }
    public string Haproxy { get; init; } = "haproxy";
    public string HaproxyConfig { get; init; } = "config/haproxy.cfg";
    public string RepoRoot { get; init; } = ".";

    public const string Usage = """
        AkkaPortShare.Benchmark [options]   (normally started by src/AkkaPortShare.Benchmark/run.sh)
          --quick                  smoke: 1 repetition, short loops, 200 held connections (asserts only that paths work)
          --repetitions N          repetitions of every figure (default 5)
          --warmup SECONDS         unmeasured warm-up before each loop (default 1)
          --churn-seconds S        connection churn loop length (default 3)
          --churn-concurrency LIST e.g. 1,16,64 (default)
          --stream-seconds S       streaming loop length (default 4)
          --stream-connections N   long connections pipelining 64 KiB envelopes (default 4)
          --stream-window N        envelopes in flight per connection (default 8)
          --held N                 connections held open for the memory figure (default 10000)
          --held-pause SECONDS     pause at the baseline and with all held, printing the pids, for a profiler (default 0)
          --rm-windows LIST        reliable-session transfer windows (default 1,8,64,512)
          --rm-delays LIST         round-trip delays added by the delay relay, ms (default 0,2,20)
          --rm-seconds S           measured stretch per reliable-session figure (default 3)
          --rm-message-size BYTES  one-way message payload (default 4096)
          --rm-flow-control on|off reliable-session flow control (BufferRemaining) on both ends (default on, WCF's)
          --quiet-wait SECONDS     shared machines: before each figure wait up to this long until the machine is at
                                   most --quiet-threshold busy (default 0.15 of all cores), and measure a figure
                                   again (up to twice) when other processes used more than that (default 0: off)
          --tls                    churn with TLS: a server certificate made at start, the worker's WCF echo endpoint with
                                   Transport security, WCF clients with NetTcpBinding(SecurityMode.Transport) and
                                   ClientCredentialType None; rows labelled (TLS); churn only
          --cross-host             the worker on another host (a network namespace on a bridge; root): direct, relay and
                                   HAProxy each cross that link (the hand-over path is left out: no socket crosses hosts);
                                   churn and streaming only
          --paths LIST             direct,handover,relay,haproxy,floor-direct,floor-handover (default all; the
                                   floor paths: the least any hand-over costs here, churn only, see README)
          --scenarios LIST         churn,streaming,held,reliable (default all)
          --out DIR                results folder (default artifacts/benchmark)
          --relay-engine E         the router's relay-engine on the relay path: splice or copy (default: the router's, splice)
          --router-settings HOCON  more router settings, e.g. "relay-buffer-size = 256k, relay-threads = 2" (to compare)
          --worker-settings HOCON  more worker configuration, whole paths, e.g. "akka.actor.default-dispatcher.executor = fork-join-executor"
          --router-dll PATH --worker-dll PATH --haproxy PATH --haproxy-config PATH --repo-root DIR
        """;

    public static BenchmarkOptions Parse(string[] args)
    {
        var o = new BenchmarkOptions();
        var quick = args.Contains("--quick");
        if (quick)
        {
            o = o with
            {
                Quick = true, Repetitions = 1, Warmup = TimeSpan.FromMilliseconds(300),
                ChurnDuration = TimeSpan.FromMilliseconds(700), StreamDuration = TimeSpan.FromSeconds(1),
                HeldConnections = 200, HeldSettle = TimeSpan.FromMilliseconds(300),
                RmWindows = [8], RmDelaysMs = [0], RmDuration = TimeSpan.FromMilliseconds(500),
            };
        }
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Seconds() => double.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--quick" => o,
                "--tls" => o with { Tls = true },
                "--cross-host" => o with { CrossHost = true },
                "--repetitions" => o with { Repetitions = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--warmup" => o with { Warmup = TimeSpan.FromSeconds(Seconds()) },
                "--churn-seconds" => o with { ChurnDuration = TimeSpan.FromSeconds(Seconds()) },
                "--churn-concurrency" => o with { ChurnConcurrency = Next().Split(',').Select(int.Parse).ToArray() },
                "--stream-seconds" => o with { StreamDuration = TimeSpan.FromSeconds(Seconds()) },
                "--stream-connections" => o with { StreamConnections = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--stream-window" => o with { StreamWindow = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--held-pause" => o with { HeldPause = TimeSpan.FromSeconds(Seconds()) },
                "--held" => o with { HeldConnections = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--rm-windows" => o with { RmWindows = Next().Split(',').Select(int.Parse).ToArray() },
                "--rm-delays" => o with { RmDelaysMs = Next().Split(',').Select(int.Parse).ToArray() },
                "--rm-seconds" => o with { RmDuration = TimeSpan.FromSeconds(Seconds()) },
                "--rm-message-size" => o with { RmMessageSize = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--rm-flow-control" => o with { RmFlowControl = Next() is "on" or "true" },
                "--quiet-wait" => o with { QuietWait = TimeSpan.FromSeconds(Seconds()) },
                "--quiet-threshold" => o with { QuietThreshold = Seconds() },
                "--paths" => o with { Paths = Next().Split(',').ToHashSet(StringComparer.OrdinalIgnoreCase) },
                "--scenarios" => o with { Scenarios = Next().Split(',').ToHashSet(StringComparer.OrdinalIgnoreCase) },
                "--out" => o with { OutputDirectory = Next() },
                "--router-dll" => o with { RouterDll = Next() },
                "--relay-engine" => o with { RelayEngine = Next() is var e and ("splice" or "copy") ? e : throw new ArgumentException("--relay-engine: splice or copy") },
                "--router-settings" => o with { RouterSettings = Next() },
                "--worker-settings" => o with { WorkerSettings = Next() },
                "--worker-dll" => o with { WorkerDll = Next() },
                "--haproxy" => o with { Haproxy = Next() },
                "--haproxy-config" => o with { HaproxyConfig = Next() },
                "--repo-root" => o with { RepoRoot = Next() },
                "--help" or "-h" => throw new HelpRequested(),
                var unknown => throw new ArgumentException($"unknown option {unknown}"),
            };
        }
        if (o.Tls && o.Scenarios?.Any(s => !s.StartsWith("churn", StringComparison.OrdinalIgnoreCase)) == true)
            throw new ArgumentException("--tls measures churn only: --scenarios churn (or leave it out)");
        if (o.Tls) o = o with { Scenarios = o.Scenarios ?? new HashSet<string>(["churn"], StringComparer.OrdinalIgnoreCase) };
        if (o.CrossHost && o.Scenarios?.Any(s => !s.StartsWith("churn", StringComparison.OrdinalIgnoreCase) && s != "streaming") == true)
            throw new ArgumentException("--cross-host measures churn and streaming (the held and reliable-session figures need the hand-over path)");
        if (o.CrossHost) o = o with { Scenarios = o.Scenarios ?? new HashSet<string>(["churn", "streaming"], StringComparer.OrdinalIgnoreCase) };
        if (o.CrossHost) o = o with { Paths = (o.Paths ?? ["direct", "relay", "haproxy"]).Where(p => p != "handover").ToHashSet(StringComparer.OrdinalIgnoreCase) };
        if (o.Repetitions < 1) throw new ArgumentException("--repetitions must be at least 1");
        if (o.RmWindows.Any(w => w is < 1 or > 4096)) throw new ArgumentException("--rm-windows: each must be 1-4096 (WCF's range)");
        if (o.RmMessageSize is < 1 or > 60_000)
            throw new ArgumentException("--rm-message-size must be 1-60000 (the worker's max-message-size is 64 KiB)");
        return o;
    }

    public sealed class HelpRequested : Exception;
}
