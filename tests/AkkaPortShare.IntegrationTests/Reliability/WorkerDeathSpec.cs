using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.TestSupport.Fuzz.Cases;
using AkkaPortShare.TestSupport.Fuzz.Live;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>Workers killed with SIGKILL while clients keep arriving, and descriptors after many connections.</summary>
[Collection(LoadCollection.Name)]
public sealed class WorkerDeathSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_worker_killed_under_load_loses_its_addresses_within_one_second_and_no_client_hangs()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        var doomed = await host.StartWorkerAsync("doomed", "d/");
        await host.StartWorkerAsync("survivor", "s/");
        var clients = new LoopbackClients(new IPEndPoint(IPAddress.Loopback, host.Port));
        var outcomes = new ConcurrentDictionary<string, int>();
        var survivorFailures = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();

        // Eight clients keep opening sessions to the doomed worker, two to the survivor.
        var load = Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            var path = i < 8 ? "d/load" : "s/load";
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var outcome = await OneSessionAsync(clients, host.Via(path), $"{i}/{n}");
                outcomes.AddOrUpdate($"{path}: {outcome}", 1, (_, c) => c + 1);
                if (path == "s/load" && outcome != "served") survivorFailures.Enqueue(outcome);
            }
        })).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        doomed.Kill();
        var sinceKill = Stopwatch.StartNew();
        string? fault = null;
        while (sinceKill.Elapsed < TimeSpan.FromSeconds(5))
        {
            using var probe = await FramingClient.ConnectAsync(host.Port);
            fault = await probe.OpenAsync(host.Via("d/probe"));
            if (fault == FramingFaults.EndpointNotFound) break;
            await Task.Delay(10);
        }
        var removedAfter = sinceKill.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1));
        stop.Cancel();
        await Task.WhenAll(load);

        output.WriteLine($"addresses gone {removedAfter.TotalMilliseconds:F0} ms after SIGKILL");
        foreach (var (outcome, count) in outcomes.OrderBy(o => o.Key)) output.WriteLine($"  {outcome}: {count}");
        Assert.Equal(FramingFaults.EndpointNotFound, fault);
        Assert.True(removedAfter < TimeSpan.FromSeconds(1), $"addresses removed only after {removedAfter}");
        // Every client of the dead worker got an answer or a close: none waited for its timeout.
        Assert.DoesNotContain(outcomes.Keys, k => k.EndsWith("hang", StringComparison.Ordinal));
        Assert.All(outcomes.Keys.Where(k => k.StartsWith("d/", StringComparison.Ordinal)), k => Assert.Matches(
            "served|fault (ConnectionDispatchFailed|EndpointNotFound)|closed|reset", k));
        Assert.Empty(survivorFailures);
        Assert.True(outcomes.GetValueOrDefault("d/load: served") > 0, "the doomed worker served nobody before it was killed");
        await host.Router!.WaitForLineAsync("Worker pid .* is gone", TimeSpan.FromSeconds(5));
    }

    /// <summary>One whole session; "served", the fault's name, "closed", "reset" or "hang".</summary>
    private static async Task<string> OneSessionAsync(LoopbackClients clients, string via, string message)
    {
        try
        {
            await SessionClient.RunAsync(clients, via, message, ClientTimeout);
            return "served";
        }
        catch (FramingFaultException e)
        {
            return $"fault {e.Name}";
        }
        catch (OperationCanceledException)
        {
            return "hang";
        }
        catch (EndOfStreamException)
        {
            return "closed";
        }
        catch (System.Net.Sockets.SocketException)
        {
            return "reset";
        }
    }

    [Fact]
    public async Task The_routers_descriptors_return_to_their_baseline_after_10000_connections()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        var worker = await host.StartWorkerAsync("worker", "fuzz/");
        var router = new IPEndPoint(IPAddress.Loopback, host.Port);
        var target = new FuzzTarget(host.Port);
        SoakOptions Options(long connections) => new(router, target, connections, host.Router!.Id)
        {
            WorkerPid = worker.Id,
            Concurrency = 16,
            Settle = TimeSpan.FromSeconds(1),
            SampleEvery = TimeSpan.FromSeconds(2),
        };
        await Soak.RunAsync(Options(500)); // warm-up: thread pools, buffers, epoll sets
        var baseline = await SettledAsync(host.Router!.Id, worker.Id, null);

        var report = await Soak.RunAsync(Options(10_000));
        var after = await SettledAsync(host.Router.Id, worker.Id, baseline);

        output.WriteLine(report.ToString());
        output.WriteLine($"baseline: router {baseline.Router}, worker {baseline.Worker}; after, settled: router {after.Router}, worker {after.Worker}");
        Assert.Equal(0, report.Failed);
        Assert.Equal(10_000, report.Connections);
        // A leak would leave hundreds or thousands behind; a few more may be the runtime's own, opened lazily under
        // load (socket engine and timer handles), and they do not grow with the connection count.
        Assert.InRange(after.Router.OpenDescriptors, 0, baseline.Router.OpenDescriptors + 8);
        Assert.InRange(after.Worker.OpenDescriptors, 0, baseline.Worker.OpenDescriptors + 8);
    }

    // Samples until the descriptor counts are back at (or near) the baseline, for at most 10 s: closes finish a
    // little after the clients see them (fault drains, the worker's session actors stopping).
    private static async Task<(ProcessSample Router, ProcessSample Worker)> SettledAsync(int routerPid, int workerPid,
        (ProcessSample Router, ProcessSample Worker)? baseline)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var now = (ProcessSample.Of(routerPid), ProcessSample.Of(workerPid));
            if (baseline is null)
            {
                await Task.Delay(1000);
                var again = (ProcessSample.Of(routerPid), ProcessSample.Of(workerPid));
                if (again.Item1.OpenDescriptors == now.Item1.OpenDescriptors && again.Item2.OpenDescriptors == now.Item2.OpenDescriptors)
                    return again;
                continue;
            }
            if (now.Item1.OpenDescriptors <= baseline.Value.Router.OpenDescriptors
                && now.Item2.OpenDescriptors <= baseline.Value.Worker.OpenDescriptors || deadline.Elapsed > TimeSpan.FromSeconds(10))
                return now;
            await Task.Delay(200);
        }
    }
}
