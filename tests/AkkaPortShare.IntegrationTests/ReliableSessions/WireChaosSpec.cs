using System.Diagnostics;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.ReliableSessions;

/// <summary>
/// Chaos on the wire: the real WCF client's reliable session runs through a relay that keeps cutting its TCP
/// connection at random points. The client reconnects, the session (keyed by its sequence ids, not the socket)
/// carries on, and nothing is lost or duplicated.
/// </summary>
/// <remarks>
/// Where the relay may cut, and why the WCF client limits it, is in <see cref="CuttingRelay"/>.
/// </remarks>
public sealed class WireChaosSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_reliable_session_survives_its_connection_being_cut_again_and_again()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        await host.StartWorkerAsync("worker-C", ["--wcf-address", host.Address("c/echo/")], "c/echo/");
        using var relay = new CuttingRelay(host.Port, seed: 20261124, minBytes: 2_000, maxBytes: 30_000);

        var elapsed = Stopwatch.StartNew();
        const int messages = 300;
        // The router routes by its own port, so the client can address the relay's.
        var summary = "";
        host.WithLogsOnFailure(() => summary = ReliableEchoLoop.Run($"net.tcp://localhost:{relay.Port}/c/echo/", messages),
            () => new Dictionary<string, string> { ["relay"] = relay.Journal });

        output.WriteLine($"{messages} one-way + {messages / 10} request/reply messages, {relay.Connections} connections, " +
                         $"{relay.Cuts} cuts, {elapsed.Elapsed.TotalSeconds:F1} s; service saw: {summary}");
        Assert.Equal($"received={messages} outOfOrder=0", summary);
        Assert.True(relay.Cuts >= 3, $"only {relay.Cuts} cuts: the test did not exercise reconnection");
    }
}
