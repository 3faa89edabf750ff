using System.Diagnostics;
using AkkaPortShare.Benchmark.Load;
using AkkaPortShare.Benchmark.Topology;

namespace AkkaPortShare.Benchmark.Scenarios;

/// <summary>
/// What the goodput of a reliable session is compared with, per added delay: the link rate (the same one-way
/// message flood, same client, same relay, same worker, without a reliable session) and the round trip (median of
/// small request/reply calls over it). The bound for window W is min(link rate, W × message size / round trip).
/// </summary>
public sealed record LinkCalibration(double LinkBytesPerSecond, TimeSpan RoundTrip);

/// <summary>The latest calibration per added delay, shared by the link scenario (which measures) and the goodput ones.</summary>
public sealed class LinkCalibrations
{
    private readonly Dictionary<int, LinkCalibration> _byDelay = [];

    public void Set(int delayMs, LinkCalibration calibration)
    {
        lock (_byDelay) _byDelay[delayMs] = calibration;
    }

    public LinkCalibration? Get(int delayMs)
    {
        lock (_byDelay) return _byDelay.GetValueOrDefault(delayMs);
    }
}

/// <summary>Client-side loops shared by the link and goodput scenarios.</summary>
public static class ReliableLoad
{
    /// <summary>The worker's endpoint for window W (its own reliable-session block sets the window on that end).</summary>
    public static string ReliablePath(int window) => $"rm/w{window}/";

    /// <summary>HOCON path of that endpoint's reliable-session block in the worker's config.</summary>
    public static string ConfigPath(int window) => $"benchmark.reliable-session-w{window}";

    public const string PlainPath = "wcf/echo/";

    public static Uri Address(DelayRelay relay, string path) => new($"net.tcp://localhost:{relay.Port}/{path}");

    /// <summary>Blocking WCF calls (open, close, request/reply) run off the thread pool the async sends rely on.</summary>
    public static Task<T> OnOwnThread<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public static Task OnOwnThread(Action work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Median of small request/reply round trips: at least 5 calls, then until the time is up (200 at most).</summary>
    public static TimeSpan RoundTrip(IBenchEchoService channel, TimeSpan measureFor)
    {
        for (var i = 0; i < 20; i++) channel.Echo("x"); // warm-up: code paths, connection
        var samples = new List<double>();
        var until = Stopwatch.GetTimestamp() + (long)(measureFor.TotalSeconds * Stopwatch.Frequency);
        while (samples.Count < 5 || (samples.Count < 200 && Stopwatch.GetTimestamp() < until))
        {
            var t0 = Stopwatch.GetTimestamp();
            if (channel.Echo("x") != "x") throw new InvalidDataException("the echo differs from the request");
            samples.Add((Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency);
        }
        samples.Sort();
        return TimeSpan.FromSeconds(samples[samples.Count / 2]);
    }

    /// <summary>
    /// One-way messages as fast as the channel takes them: a warm-up (a reliable sender's window opens by slow start),
    /// then the measured stretch between two PostedCount calls. PostedCount is ordered after every Post before it, so
    /// each boundary is a point where everything sent so far has been received by the service: the figure counts
    /// messages the service got, not messages still buffered on the way. Returns (messages, seconds).
    /// </summary>
    public static async Task<(long Messages, double Seconds)> FloodAsync(IBenchEchoService channel, string payload, TimeSpan warmup,
        TimeSpan duration, long maxMessages)
    {
        var until = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        for (long i = 0; i < maxMessages && Stopwatch.GetTimestamp() < until; i++) await channel.PostAsync(payload);
        var before = await OnOwnThread(channel.PostedCount);
        var t0 = Stopwatch.GetTimestamp();
        until = t0 + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long sent = 0;
        while (sent < maxMessages && Stopwatch.GetTimestamp() < until)
        {
            await channel.PostAsync(payload);
            sent++;
        }
        var after = await OnOwnThread(channel.PostedCount);
        var seconds = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency;
        if (after - before != sent)
            throw new InvalidDataException($"the service counted {after - before} of the {sent} messages sent");
        return (sent, seconds);
    }
}

/// <summary>
/// Calibration for one added delay: link rate and round trip over the delay relay, through the router (hand-over),
/// with the plain NetTcpBinding. Runs before the goodput scenarios of its delay in every repetition.
/// </summary>
public sealed class ReliableLinkScenario(int delayMs, LinkCalibrations calibrations) : IScenario
{
    public string Name => $"rm-link-d{delayMs}";
    public string Group => "reliable";
    public string Title => $"reliable sessions: link, +{delayMs} ms RTT";
    public bool NeedsFreshProcesses => false;

    public IReadOnlyList<Metric> Metrics { get; } =
    [
        new("link_mb_s", "one-way flood without reliable session", "MB/s", HigherIsBetter: true, HasDirectRatio: false, Format: "N1"),
        new("rtt_ms", "round trip, small request/reply", "ms", HigherIsBetter: false, HasDirectRatio: false, Format: "N2"),
    ];

    public bool AppliesTo(BenchPath path) => path.Name == BenchPath.Handover.Name;

    public async Task<ScenarioResult> RunAsync(ScenarioContext context, BenchPath path, CancellationToken ct)
    {
        var (calibration, messages) = await Measure(context, path, delayMs);
        calibrations.Set(delayMs, calibration);
        var result = new ScenarioResult { Operations = messages };
        result.Values["link_mb_s"] = calibration.LinkBytesPerSecond / 1e6;
        result.Values["rtt_ms"] = calibration.RoundTrip.TotalMilliseconds;
        result.Extra["added_rtt_ms"] = delayMs;
        result.Extra["message_bytes"] = context.Options.RmMessageSize;
        return result;
    }

    public static async Task<(LinkCalibration, long)> Measure(ScenarioContext context, BenchPath path, int delayMs)
    {
        var options = context.Options;
        using var relay = new DelayRelay(context.Topology.EndPointOf(path), TimeSpan.FromMilliseconds(delayMs));
        var payload = new string('a', options.RmMessageSize);
        var (factory, channel) = await ReliableLoad.OnOwnThread(() =>
            WcfClients.Open(WcfClients.Plain(), ReliableLoad.Address(relay, ReliableLoad.PlainPath)));
        try
        {
            var roundTrip = await ReliableLoad.OnOwnThread(() =>
                ReliableLoad.RoundTrip(channel, options.Quick ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(1)));
            var (messages, seconds) = await ReliableLoad.FloodAsync(channel, payload, options.Warmup, options.RmDuration, options.RmMaxMessages);
            await ReliableLoad.OnOwnThread(() => WcfClients.Close(factory, channel));
            return (new LinkCalibration(messages * (double)options.RmMessageSize / seconds, roundTrip), messages);
        }
        catch
        {
            WcfClients.Abort(factory, channel);
            throw;
        }
    }
}
