using System.Net;
using AkkaPortShare.TestSupport.Fuzz.Live;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>
/// Slowloris against the shared port. The Windows service stops accepting once maxPendingConnections connections
/// are unrouted, so trickling clients starve everyone for the whole receive timeout; this router sheds the oldest
/// unrouted connection instead. Latencies are reported, not asserted (this is a shared 2-core machine): what is
/// asserted is that every legitimate connection is served, and the bounds.
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class SlowClientSpec(ITestOutputHelper output)
{
    private const int MaxPending = 100;

    [Fact]
    public async Task Two_thousand_trickling_connections_do_not_stop_a_legitimate_client()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync(extraHocon: $"akka-port-share.router {{ max-pending-connections = {MaxPending}, receive-timeout = 5s }}");
        await host.StartWorkerAsync("worker", "fuzz/");
        var options = new SlowClientOptions(new IPEndPoint(IPAddress.Loopback, host.Port), $"net.tcp://localhost:{host.Port}/fuzz/svc")
        {
            Attackers = 2000,
            TrickleInterval = TimeSpan.FromMilliseconds(500),
            ReconnectDelay = TimeSpan.FromSeconds(1),
            Baseline = TimeSpan.FromSeconds(3),
            Attack = TimeSpan.FromSeconds(9),
            RouterPid = host.Router!.Id,
        };

        var report = await SlowClientAttack.RunAsync(options);

        output.WriteLine(report.ToString());
        foreach (var line in host.Router.Output.Split('\n').Where(l => l.Contains("127.0.0.200"))) output.WriteLine(line);
        Assert.Equal(0, report.LegitimateFailed);
        Assert.True(report.UnderAttack.Count > 20, $"only {report.UnderAttack.Count} legitimate connections under attack");
        Assert.True(report.AttackConnections > options.Attackers, $"only {report.AttackConnections} attacking connections");
        // max-pending-connections bounds what the attack holds in the router: at most that many accepted sockets
        // (plus the listener's few accepts in flight and sockets being closed).
        Assert.True(report.RouterFdsMax <= report.RouterFdsBefore + MaxPending + 40,
            $"router descriptors rose from {report.RouterFdsBefore} to {report.RouterFdsMax}");
        Assert.True(host.Router.CountLines("shed: max-pending-connections reached") > 0);
    }

    [Fact]
    public async Task Each_trickling_connection_is_dropped_at_receive_timeout()
    {
        var timeout = TimeSpan.FromSeconds(2);
        using var host = new PortShareHost();
        await host.StartRouterAsync(extraHocon: $"akka-port-share.router {{ max-pending-connections = {MaxPending}, receive-timeout = {timeout.TotalMilliseconds}ms }}");
        await host.StartWorkerAsync("worker", "fuzz/");
        var options = new SlowClientOptions(new IPEndPoint(IPAddress.Loopback, host.Port), $"net.tcp://localhost:{host.Port}/fuzz/svc")
        {
            Attackers = 50, // fewer than max-pending-connections: nothing is shed, the timeout alone must end them
            TrickleInterval = TimeSpan.FromMilliseconds(200),
            ReconnectDelay = TimeSpan.FromHours(1),
            Baseline = TimeSpan.FromSeconds(1),
            Attack = timeout + TimeSpan.FromSeconds(4),
        };

        var report = await SlowClientAttack.RunAsync(options);

        output.WriteLine(report.ToString());
        Assert.Equal(50, report.AttackConnections);
        Assert.Equal(50, report.AttackLifetimes.Count);
        // Liveness: each one is gone within the timeout plus a margin for a loaded machine; and not before it.
        Assert.All(report.AttackLifetimes, t => Assert.InRange(t, timeout * 0.9, timeout + TimeSpan.FromSeconds(2)));
        Assert.Equal(0, report.LegitimateFailed);
        Assert.Equal(50, host.Router!.CountLines("no complete preamble within receive-timeout"));
    }
}
