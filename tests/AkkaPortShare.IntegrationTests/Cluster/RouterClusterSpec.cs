using System.Diagnostics;
using AkkaPortShare.IntegrationTests.Harness;
using AkkaPortShare.Protocol.Framing;
using Xunit.Abstractions;
using static AkkaPortShare.IntegrationTests.Cluster.RouterClusterFixture;

namespace AkkaPortShare.IntegrationTests.Cluster;

/// <summary>
/// Routers in one Akka.Cluster (issue 15), as real processes on simulated hosts: every router knows every
/// registration and relays to workers registered with another; two workers racing for one address through two
/// routers get one winner; a dead worker host and a dead router lose their registrations everywhere. The longer
/// scenarios (propagation figures over 100 changes, partitions) are in scripts/cluster/.
/// </summary>
public sealed class RouterClusterSpec(RouterClusterFixture cluster, ITestOutputHelper output) : IClassFixture<RouterClusterFixture>
{
    // Generous bounds: the figures are measured by scripts/cluster/propagation.sh, not asserted here.
    private static readonly TimeSpan Visible = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_client_of_either_router_reaches_a_worker_registered_with_one_of_them_on_a_third_host()
    {
        await WithLogs(async () =>
        {
            // B learned W's registration from the cluster: a worker of another router, relayed.
            await cluster.RouterB.WaitForLineAsync($"Registered {PortShareHost.Regex(Address("echo/"))} for worker pid \\d+ at {PortShareHost.Regex(cluster.Hosts[2].Address.ToString())}:\\d+ of router", Visible);
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
                Assert.Equal((null, "w"), await CallAsync(router, "echo/"));
            // An address nobody registered is unknown on both.
            Assert.Equal((FramingFaults.EndpointNotFound, null), await CallAsync(cluster.HostB, "nobody/"));
        });
    }

    [Fact]
    public async Task Two_workers_racing_for_one_address_through_two_routers_get_one_winner_and_a_killed_worker_host_loses_it_everywhere()
    {
        await WithLogs(async () =>
        {
            var hostX = cluster.Hosts[3];
            var hostY = cluster.Hosts[4];
            var x = cluster.StartWorker(hostX, "x", cluster.HostA, "race/");
            var y = cluster.StartWorker(hostY, "y", cluster.HostB, "race/");
            var registered = $"Registered {PortShareHost.Regex(Address("race/"))} with the router";
            var refused = "AddressAlreadyInUse";
            var outcomeX = x.WaitForLineAsync($"{registered}|{refused}", StartTimeout);
            var outcomeY = y.WaitForLineAsync($"{registered}|{refused}", StartTimeout);
            var lines = await Task.WhenAll(outcomeX, outcomeY);
            output.WriteLine($"x: {lines[0]}\ny: {lines[1]}");
            Assert.Single(lines, l => l.Contains("Registered"));
            Assert.Single(lines, l => l.Contains(refused));
            var (winner, winnerHost, loser) = lines[0].Contains("Registered") ? (x, hostX, y) : (y, hostY, x);
            Assert.True(await loser.WaitForExitAsync(TimeSpan.FromSeconds(20)), "the refused worker exits (exit-on-refusal)");
            Assert.Equal(76, loser.ExitCode);

            // Both routers route the address to the winner.
            var identity = winner == x ? "x" : "y";
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
                Assert.Equal((null, identity), await Eventually(() => CallAsync(router, "race/"), r => r.Identity == identity));

            // The winner's host dies: its router notices (Akka.Remote's watch), and every router forgets the address.
            var linesA = cluster.RouterA.LineCount;
            var linesB = cluster.RouterB.LineCount;
            var watch = Stopwatch.StartNew();
            winnerHost.KillAll();
            var gone = $"Unregistered {PortShareHost.Regex(Address("race/"))}|Worker .* is gone .*{PortShareHost.Regex(Address("race/"))}";
            await cluster.RouterA.WaitForLineAsync(gone, TimeSpan.FromSeconds(40), linesA);
            await cluster.RouterB.WaitForLineAsync(gone, TimeSpan.FromSeconds(40), linesB);
            output.WriteLine($"removed on both routers {watch.ElapsedMilliseconds} ms after the kill");
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
                Assert.Equal((FramingFaults.EndpointNotFound, null), await CallAsync(router, "race/"));
            // The address is free again, cluster-wide.
            var again = cluster.StartWorker(cluster.Hosts[4 - (winnerHost == hostX ? 0 : 1)], "z", cluster.HostB, "race/");
            await again.WaitForLineAsync(registered, StartTimeout);
            Assert.Equal((null, "z"), await Eventually(() => CallAsync(cluster.HostA, "race/"), r => r.Identity == "z"));
        });
    }

    [Fact]
    public async Task A_killed_router_leaves_the_others_serving_and_its_registrations_leave_every_router()
    {
        await WithLogs(async () =>
        {
            var hostC = cluster.Hosts[5];
            var routerC = await cluster.StartRouterAsync(hostC, cluster.HostA);
            var v = cluster.StartWorker(cluster.Hosts[6], "v", hostC, "via-c/");
            await v.WaitForLineAsync($"Registered {PortShareHost.Regex(Address("via-c/"))} with the router", StartTimeout);
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
                Assert.Equal((null, "v"), await Eventually(() => CallAsync(router, "via-c/"), r => r.Identity == "v"));

            var linesA = cluster.RouterA.LineCount;
            var linesB = cluster.RouterB.LineCount;
            var watch = Stopwatch.StartNew();
            hostC.KillAll();
            // A and B keep serving W meanwhile (its registration is A's; nothing of it depended on C).
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
                Assert.Equal((null, "w"), await CallAsync(router, "echo/"));
            // The split-brain resolver (keep-majority among routers: 2 of 3) downs C; its registrations go everywhere.
            // Each router drops them when it sees C removed, or sooner when the arbiter's removal reaches it.
            var left = $"Router {PortShareHost.Regex(RemotingAddress(hostC))} left the cluster: removed its 1 address" +
                $"|Unregistered {PortShareHost.Regex(Address("via-c/"))} \\(a worker of another router\\)";
            await cluster.RouterA.WaitForLineAsync(left, TimeSpan.FromSeconds(60), linesA);
            await cluster.RouterB.WaitForLineAsync(left, TimeSpan.FromSeconds(60), linesB);
            output.WriteLine($"C's registrations removed on A and B {watch.ElapsedMilliseconds} ms after the kill");
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
            {
                Assert.Equal((FramingFaults.EndpointNotFound, null), await CallAsync(router, "via-c/"));
                Assert.Equal((null, "w"), await CallAsync(router, "echo/"));
            }
        });
    }

    private static async Task<T> Eventually<T>(Func<Task<T>> attempt, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + Visible;
        while (true)
        {
            var result = await attempt();
            if (done(result) || DateTime.UtcNow > deadline) return result;
            await Task.Delay(100);
        }
    }

    private async Task WithLogs(Func<Task> test)
    {
        output.WriteLine($"hosts: {string.Join(", ", cluster.Hosts.Hosts)}{(cluster.Hosts.Isolated ? "" : $" (loopback: {cluster.Hosts.FallbackReason})")}");
        try
        {
            await test();
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n{cluster.Tails()}\n{e}");
        }
    }
}
