using AkkaPortShare.Benchmark.Load;
using AkkaPortShare.Benchmark.Topology;

namespace AkkaPortShare.Benchmark.Scenarios;

/// <summary>
/// Goodput of one reliable session (the real WCF client, WS-RM February 2005 over net.tcp, transfer window W on both
/// ends) through the router's hand-over and a relay adding a round-trip delay: one-way messages of a fixed size as
/// fast as the session takes them. Reported next to the bound min(link rate, W × message size / RTT) from the
/// latest <see cref="ReliableLinkScenario"/> of the same delay (measured here when there is none).
/// </summary>
public sealed class ReliableGoodputScenario(int window, int delayMs, LinkCalibrations calibrations) : IScenario
{
    public int Window => window;
    public int DelayMs => delayMs;
    public string Name => $"rm-w{window}-d{delayMs}";
    public string Group => "reliable";
    public string Title => $"reliable session, window {window}, +{delayMs} ms RTT";
    public bool NeedsFreshProcesses => false;

    public IReadOnlyList<Metric> Metrics { get; } =
    [
        new("goodput_mb_s", "goodput", "MB/s", HigherIsBetter: true, HasDirectRatio: false, Format: "N2"),
        new("bound_mb_s", "bound min(link, W × size / RTT)", "MB/s", HigherIsBetter: true, HasDirectRatio: false, Format: "N2"),
        new("pct_of_bound", "goodput ÷ bound", "%", HigherIsBetter: true, HasDirectRatio: false, Format: "N0"),
        new("instant_pct_of_bound", "the same client against a server that acknowledges instantly, ÷ bound", "%", HigherIsBetter: true,
            HasDirectRatio: false, Format: "N0"),
        // What the session itself costs: both floods run back to back in one repetition, so on a shared machine this
        // ratio moves less than either figure ÷ a bound measured earlier.
        new("over_instant", "goodput ÷ the instant server's (same repetition)", "×", HigherIsBetter: true, HasDirectRatio: false,
            Format: "N2"),
    ];

    public bool AppliesTo(BenchPath path) => path.Name == BenchPath.Handover.Name;

    public async Task<ScenarioResult> RunAsync(ScenarioContext context, BenchPath path, CancellationToken ct)
    {
        var options = context.Options;
        var calibration = calibrations.Get(delayMs);
        if (calibration is null)
        {
            (calibration, _) = await ReliableLinkScenario.Measure(context, path, delayMs);
            calibrations.Set(delayMs, calibration);
        }
        using var relay = new DelayRelay(context.Topology.EndPointOf(path), TimeSpan.FromMilliseconds(delayMs));
        var payload = new string('a', options.RmMessageSize);
        // The sender's window opens by slow start, one round trip per doubling: the warm-up covers that too.
        var warmup = TimeSpan.FromTicks(Math.Max(options.Warmup.Ticks, calibration.RoundTrip.Ticks * 30));
        var (factory, channel) = await ReliableLoad.OnOwnThread(() => WcfClients.Open(
            WcfClients.Reliable(window, options.RmFlowControl), ReliableLoad.Address(relay, ReliableLoad.ReliablePath(window))));
        long messages;
        double seconds;
        try
        {
            (messages, seconds) = await ReliableLoad.FloodAsync(channel, payload, warmup, options.RmDuration, options.RmMaxMessages);
            await ReliableLoad.OnOwnThread(() => WcfClients.Close(factory, channel));
        }
        catch
        {
            WcfClients.Abort(factory, channel);
            throw;
        }

        // The client's own limit: the same client, window and relay delay against a server that acknowledges at once.
        var (instantMessages, instantSeconds) = await FloodInstant(payload, warmup, options);
        var goodput = messages * (double)options.RmMessageSize / seconds;
        var windowRate = window * (double)options.RmMessageSize / calibration.RoundTrip.TotalSeconds;
        var bound = Math.Min(calibration.LinkBytesPerSecond, windowRate);
        var result = new ScenarioResult { Operations = messages };
        result.Values["goodput_mb_s"] = goodput / 1e6;
        result.Values["bound_mb_s"] = bound / 1e6;
        result.Values["pct_of_bound"] = goodput / bound * 100;
        var instantGoodput = instantMessages * (double)options.RmMessageSize / instantSeconds;
        result.Values["instant_pct_of_bound"] = instantGoodput / bound * 100;
        result.Values["over_instant"] = goodput / instantGoodput;
        result.Extra["instant_mb_s"] = instantGoodput / 1e6;
        result.Extra["link_mb_s"] = calibration.LinkBytesPerSecond / 1e6;
        result.Extra["window_rate_mb_s"] = windowRate / 1e6;
        result.Extra["rtt_ms"] = calibration.RoundTrip.TotalMilliseconds;
        result.Extra["messages_per_s"] = messages / seconds;
        result.Extra["message_bytes"] = options.RmMessageSize;
        result.Extra["relay_connections"] = relay.Connections;
        return result;
    }

    private async Task<(long Messages, double Seconds)> FloodInstant(string payload, TimeSpan warmup,
        BenchmarkOptions options)
    {
        using var server = new InstantReliableServer(window);
        using var relay = new DelayRelay(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, server.Port), TimeSpan.FromMilliseconds(delayMs));
        var (factory, channel) = await ReliableLoad.OnOwnThread(() => WcfClients.Open(
            WcfClients.Reliable(window, options.RmFlowControl), ReliableLoad.Address(relay, ReliableLoad.ReliablePath(window))));
        try
        {
            return await ReliableLoad.FloodAsync(channel, payload, warmup, options.RmDuration, options.RmMaxMessages);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"instant server: {e.Message}", e);
        }
        finally
        {
            WcfClients.Abort(factory, channel); // the instant server has no close handshake
        }
    }
}
