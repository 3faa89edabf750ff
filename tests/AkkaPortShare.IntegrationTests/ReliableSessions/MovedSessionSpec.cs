using System.Diagnostics;
using System.Text.RegularExpressions;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.ReliableSessions;

/// <summary>
/// A reliable session whose new connection lands on another worker of its address (share-addresses): the worker
/// that does not hold the session passes the connection, through the router, to the one that does, so the session
/// goes on where its state is. The router alternates between the two workers (round-robin), so nearly every
/// reconnection lands on the wrong one first.
/// </summary>
public sealed class MovedSessionSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_reliable_session_reconnecting_to_another_worker_of_its_address_reaches_its_own_state()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var host = new PortShareHost();
        await host.StartRouterAsync(extraHocon: "akka-port-share.router.shared-address-balancing = round-robin");
        var sharing = host.WriteConfig("akka-port-share.worker.share-addresses = on");
        var a = await host.StartWorkerAsync("a", ["--wcf-address", host.Address("m/echo/"), "--config", sharing], "m/echo/");
        var b = await host.StartWorkerAsync("b", ["--wcf-address", host.Address("m/echo/"), "--config", sharing], "m/echo/");
        using var relay = new CuttingRelay(host.Port, seed: 20261202, minBytes: 2_000, maxBytes: 30_000);

        var elapsed = Stopwatch.StartNew();
        const int messages = 300;
        var summary = "";
        host.WithLogsOnFailure(() => summary = ReliableEchoLoop.Run($"net.tcp://localhost:{relay.Port}/m/echo/", messages),
            () => new Dictionary<string, string> { ["relay"] = relay.Journal });

        var moved = Moves(a) + Moves(b);
        output.WriteLine($"{messages} one-way + {messages / 10} request/reply messages, {relay.Connections} connections, " +
                         $"{relay.Cuts} cuts, {moved} moved to the session's worker, {elapsed.Elapsed.TotalSeconds:F1} s; service saw: {summary}");
        foreach (var worker in new[] { a, b })
            foreach (var line in worker.Output.Split('\n').Where(l => l.Contains("UnknownSequence") || l.Contains("Lost the router")))
                output.WriteLine($"{worker.Name}: {line}");
        Assert.Equal($"received={messages} outOfOrder=0", summary);
        Assert.True(relay.Cuts >= 3, $"only {relay.Cuts} cuts: the test did not exercise reconnection");
        Assert.True(moved >= 1, "no connection landed on the other worker: the test did not exercise a move");
    }

    private static int Moves(ManagedProcess worker) =>
        Regex.Matches(worker.Output, "belongs to another worker of its address").Count;
}
