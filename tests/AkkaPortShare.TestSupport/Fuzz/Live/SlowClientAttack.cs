using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.TestSupport.Fuzz.Live;

public sealed record SlowClientOptions(IPEndPoint Router, string LegitimateVia)
{
    /// <summary>Trickling connections kept open (or reopened) at once.</summary>
    public int Attackers { get; init; } = 2000;

    /// <summary>Each attacking connection sends one byte of its preamble per interval.</summary>
    public TimeSpan TrickleInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>An attacker whose connection was dropped opens a new one after this pause (keeps the pressure on).</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan Baseline { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan Attack { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The legitimate client starts a connection this often (one at a time).</summary>
    public TimeSpan LegitimateInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan LegitimateTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>When set, the router's open descriptors are sampled during the attack.</summary>
    public int? RouterPid { get; init; }

    /// <summary>Attackers connect from this many addresses, 127.0.0.1 onwards.</summary>
    public int SourceAddresses { get; init; } = 4;

    /// <summary>The legitimate client connects from the attackers' addresses too (else from its own, 127.0.0.200).</summary>
    public bool LegitimateSharesAddresses { get; init; }
}

public sealed record SlowClientReport(
    IReadOnlyList<TimeSpan> Baseline, IReadOnlyList<TimeSpan> UnderAttack, int LegitimateFailed, IReadOnlyList<string> LegitimateErrors,
    long AttackConnections, long AttackConnectFailures, IReadOnlyList<TimeSpan> AttackLifetimes, long StillOpenAtEnd,
    int? RouterFdsBefore, int? RouterFdsMax)
{
    public override string ToString() =>
        $"legitimate connect→PreambleAck without attack: {Percentiles.Summary(Baseline)}\n" +
        $"legitimate connect→PreambleAck under attack:   {Percentiles.Summary(UnderAttack)}; {LegitimateFailed} not served\n" +
        $"attack: {AttackConnections:N0} trickling connections opened ({AttackConnectFailures:N0} connects failed), " +
        $"{AttackLifetimes.Count:N0} dropped by the router after {Percentiles.Summary(AttackLifetimes)}; {StillOpenAtEnd} still open at the end" +
        (RouterFdsBefore is { } before ? $"\nrouter descriptors: {before} before, at most {RouterFdsMax} during the attack" : "") +
        (LegitimateErrors.Count > 0 ? "\n  " + string.Join("\n  ", LegitimateErrors.Take(10)) : "");
}

/// <summary>
/// Slowloris against the shared port: thousands of connections that send a (never-ending) preamble one byte at a
/// time and reconnect when dropped, while a legitimate client keeps opening sessions. Measures the legitimate
/// client's connect→PreambleAck latency without and with the attack, and how long the router keeps attackers.
/// </summary>
public static class SlowClientAttack
{
    /// <summary>The legitimate client connects from 127.0.0.200; attackers from 127.0.0.1 onwards.</summary>
    public const byte LegitimateSource = 200;

    public static async Task<SlowClientReport> RunAsync(SlowClientOptions options, Action<string>? progress = null)
    {
        var clients = new LoopbackClients(options.Router, options.SourceAddresses);
        var legitimate = options.LegitimateSharesAddresses
            ? clients
            : new LoopbackClients(options.Router, 1, LegitimateSource); // its own address: easy to find in the router's log
        int? fdsBefore = options.RouterPid is { } pid ? ProcessSample.Of(pid).OpenDescriptors : null;

        var baseline = await LegitimateLoopAsync(legitimate, options, options.Baseline, null).ConfigureAwait(false);
        progress?.Invoke($"without attack: {Percentiles.Summary(baseline.Latencies)}");

        // A preamble whose via is far longer than a trickle can finish before receive-timeout.
        var preamble = FramingWriter.Preamble(FramingMode.Duplex, $"net.tcp://localhost:{options.Router.Port}/slow/" + new string('s', 1900));
        var lifetimes = new ConcurrentBag<TimeSpan>();
        long opened = 0, connectFailures = 0, open = 0;
        using var stop = new CancellationTokenSource(options.Attack);
        var attackers = Enumerable.Range(0, options.Attackers).Select(i => Task.Run(async () =>
        {
            await Task.Delay(i % 1000, CancellationToken.None).ConfigureAwait(false); // spread the first connects over a second
            while (!stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await clients.ConnectAsync(stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    if (!stop.IsCancellationRequested) Interlocked.Increment(ref connectFailures);
                    await Delay(options.ReconnectDelay, stop.Token).ConfigureAwait(false);
                    continue;
                }
                Interlocked.Increment(ref opened);
                Interlocked.Increment(ref open);
                var since = Stopwatch.StartNew();
                var closed = socket.ReceiveAsync(new byte[64], SocketFlags.None);
                var dropped = false;
                try
                {
                    for (var b = 0; b < preamble.Length && !stop.IsCancellationRequested; b++)
                    {
                        try
                        {
                            await socket.SendAsync(preamble.AsMemory(b, 1), SocketFlags.None).ConfigureAwait(false);
                        }
                        catch (SocketException)
                        {
                            dropped = true;
                            break;
                        }
                        var tick = Task.Delay(options.TrickleInterval, stop.Token);
                        if (await Task.WhenAny(closed, tick).ConfigureAwait(false) == closed)
                        {
                            dropped = true;
                            break;
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
                if (dropped) lifetimes.Add(since.Elapsed);
                Interlocked.Decrement(ref open);
                socket.Dispose();
                try { await closed.ConfigureAwait(false); } catch { /* reset or disposed */ }
                await Delay(options.ReconnectDelay, stop.Token).ConfigureAwait(false);
            }
        })).ToArray();

        var fdsMax = 0;
        var sampler = options.RouterPid is { } routerPid
            ? Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    fdsMax = Math.Max(fdsMax, ProcessSample.Of(routerPid).OpenDescriptors);
                    await Delay(TimeSpan.FromMilliseconds(100), stop.Token).ConfigureAwait(false);
                }
            })
            : Task.CompletedTask;

        await Task.Delay(TimeSpan.FromSeconds(Math.Min(2, options.Attack.TotalSeconds / 4))).ConfigureAwait(false); // let the attack build up
        var underAttack = await LegitimateLoopAsync(legitimate, options, options.Attack - TimeSpan.FromSeconds(Math.Min(2, options.Attack.TotalSeconds / 4)) - TimeSpan.FromMilliseconds(500), progress)
            .ConfigureAwait(false);
        var stillOpen = Interlocked.Read(ref open);
        await Task.WhenAll(attackers).ConfigureAwait(false);
        await sampler.ConfigureAwait(false);
        return new SlowClientReport(baseline.Latencies, underAttack.Latencies, underAttack.Failed, underAttack.Errors,
            Interlocked.Read(ref opened), Interlocked.Read(ref connectFailures), lifetimes.ToList(), stillOpen,
            fdsBefore, options.RouterPid is null ? null : fdsMax);
    }

    private sealed record LegitimateResult(List<TimeSpan> Latencies, int Failed, List<string> Errors);

    // The legitimate client runs on its own thread with blocking calls: the attack's thousands of tasks share this
    // process's thread pool, and a client that waits for it would look like a slow client to the router.
    private static Task<LegitimateResult> LegitimateLoopAsync(LoopbackClients clients, SlowClientOptions options, TimeSpan duration,
        Action<string>? progress)
    {
        var done = new TaskCompletionSource<LegitimateResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            var result = new LegitimateResult([], 0, []);
            var failed = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < duration)
            {
                var started = clock.Elapsed;
                try
                {
                    result.Latencies.Add(SessionClient.TimeToAck(clients, options.LegitimateVia, options.LegitimateTimeout));
                }
                catch (Exception e)
                {
                    failed++;
                    result.Errors.Add($"legitimate connection at {started.TotalSeconds:F1} s not served: {e.GetType().Name}: {e.Message}");
                }
                var wait = options.LegitimateInterval - (clock.Elapsed - started);
                if (wait > TimeSpan.Zero) Thread.Sleep(wait);
            }
            done.SetResult(result with { Failed = failed });
        }) { IsBackground = true, Name = "legitimate-client" }.Start();
        return done.Task;
    }

    private static async Task Delay(TimeSpan delay, CancellationToken cancellation)
    {
        try { await Task.Delay(delay, cancellation).ConfigureAwait(false); } catch (OperationCanceledException) { }
    }
}
