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
            // Each router drops them when it sees C removed, or sooner when the arbiter's removal reaches it. Either
            // way the registry logs this line once the routes without them are published; the cluster registry's
            // "Router ... left the cluster" comes just before that, so a call made on it could still be relayed to V.
            var left = $"Unregistered {PortShareHost.Regex(Address("via-c/"))} \\(a worker of another router\\)";
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

    [Fact]
    public async Task A_worker_member_whose_host_dies_leaves_every_router_within_the_failure_detector_and_is_downed()
    {
        await WithLogs(async () =>
        {
            var host = cluster.Hosts[7];
            var m = cluster.StartWorker(host, "m", cluster.HostA, member: true, "member/");
            await m.WaitForLineAsync($"Registered {PortShareHost.Regex(Address("member/"))} with the router", StartTimeout);
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
                Assert.Equal((null, "m"), await Eventually(() => CallAsync(router, "member/"), r => r.Identity == "m"));

            // Akka.Remote often replaces an association while a member joins (two connects racing), and gates the
            // address for 5 s (retry-gate-closed-for) when it does: a worker killed within that window closes no
            // association of the router's, and the failure detector alone finds it. Real workers live longer.
            await Task.Delay(TimeSpan.FromSeconds(6));
            var linesA = cluster.RouterA.LineCount;
            var linesB = cluster.RouterB.LineCount;
            var watch = Stopwatch.StartNew();
            host.KillAll();
            // Both routers lose their association with it at once and find its data endpoint closed: no new
            // connection goes there from then on (the failure detector's verdict follows).
            var silent = $"Not routing to worker node .*{PortShareHost.Regex(host.Address.ToString())}.*{PortShareHost.Regex(Address("member/"))}";
            var silentLine = await cluster.RouterA.WaitForLineAsync(silent, TimeSpan.FromSeconds(30), linesA);
            var silentA = watch.ElapsedMilliseconds;
            output.WriteLine(silentLine);
            // B sees it too when it was associated with the worker (it heartbeats it once it saw it Up); else at its
            // next message to it, or through the failure detector.
            await cluster.RouterB.WaitForLineAsync($"{silent}|Unregistered {PortShareHost.Regex(Address("member/"))} \\(a worker of another router\\)", TimeSpan.FromSeconds(30), linesB);
            output.WriteLine($"not routed by A {silentA} ms, by B {watch.ElapsedMilliseconds} ms after the kill");
            // A (its router) sees the member unreachable, removes its registrations and downs it; B follows A.
            await cluster.RouterA.WaitForLineAsync($"Worker .* is gone \\(its cluster node is unreachable.*{PortShareHost.Regex(Address("member/"))}", TimeSpan.FromSeconds(30), linesA);
            var atA = watch.ElapsedMilliseconds;
            await cluster.RouterB.WaitForLineAsync($"Unregistered {PortShareHost.Regex(Address("member/"))} \\(a worker of another router\\)", TimeSpan.FromSeconds(30), linesB);
            output.WriteLine($"out of router A's routes {atA} ms, of router B's {watch.ElapsedMilliseconds} ms after the kill (aim: 2 s)");
            await cluster.RouterA.WaitForLineAsync("Downing worker node", TimeSpan.FromSeconds(5), linesA);
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
                Assert.Equal((FramingFaults.EndpointNotFound, null), await CallAsync(router, "member/"));
        });
    }

    [Fact]
    public async Task A_worker_member_whose_connections_with_the_routers_are_reset_stays_routed_and_is_not_downed()
    {
        await WithLogs(async () =>
        {
            if (!cluster.Hosts.Isolated) return; // resetting connections needs network namespaces
            var host = cluster.Hosts[14];
            var t = cluster.StartWorker(host, "t", cluster.HostA, member: true, "transient/");
            await t.WaitForLineAsync($"Registered {PortShareHost.Regex(Address("transient/"))} with the router", StartTimeout);
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
                Assert.Equal((null, "t"), await Eventually(() => CallAsync(router, "transient/"), r => r.Identity == "t"));
            await Task.Delay(TimeSpan.FromSeconds(3)); // both routers heartbeat it (they saw it Up)

            // Every TCP connection between the routers' hosts and the worker's is reset, as a middlebox or a link
            // flap would: the associations close, the processes live on.
            var linesA = cluster.RouterA.LineCount;
            cluster.HostA.ResetConnectionsTo(host);
            cluster.HostB.ResetConnectionsTo(host);
            await cluster.RouterA.WaitForLineAsync($"Association with worker node .*{PortShareHost.Regex(host.Address.ToString())}.* closed, and its data endpoint .* accepts connections: still routed",
                TimeSpan.FromSeconds(10), linesA);

            // Clients of both routers call it all along, through the reconnection and past the failure detector's pause.
            var failures = new List<string>();
            var calls = 0;
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < until && calls < 2_000)
            {
                foreach (var router in new[] { cluster.HostA, cluster.HostB })
                {
                    calls++;
                    var result = await CallAsync(router, "transient/");
                    if (result != (null, "t")) failures.Add($"{DateTime.UtcNow:HH:mm:ss.fff} via {router.Name}: {result}");
                }
                await Task.Delay(50);
            }
            output.WriteLine($"{calls} calls after the reset, {failures.Count} failed\n{string.Join("\n", failures.Take(20))}");
            Assert.Empty(failures);
            Assert.False(t.HasExited, "the worker stays a member (not downed)");
            var silentT = $"Not routing to worker node .*{PortShareHost.Regex(host.Address.ToString())}";
            Assert.Equal(0, cluster.RouterA.CountLines(silentT) + cluster.RouterB.CountLines(silentT));
            await StopMemberAsync(t);
        });
    }

    [Fact]
    public async Task A_rolling_upgrade_across_routers_moves_a_shared_address_to_another_routers_worker_and_no_call_fails()
    {
        await WithLogs(async () =>
        {
            // v1 (registered with A) and then v2 (registered with B) share the address; v1 then drains and exits,
            // while a client calls through A and B in turn all along.
            const string sharing = "share-addresses = on, drain-timeout = 20s";
            var v1 = cluster.StartWorkerWith(cluster.Hosts[15], "v1", cluster.HostA, member: false, sharing, "rolling/");
            var registered = $"Registered {PortShareHost.Regex(Address("rolling/"))} with the router";
            await v1.WaitForLineAsync(registered, StartTimeout);
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
                Assert.Equal((null, "v1"), await Eventually(() => CallAsync(router, "rolling/"), r => r.Identity == "v1"));

            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var served = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var loop = Task.Run(async () =>
            {
                for (var i = 0; i < 20_000 && !stop.IsCancellationRequested; i++)
                {
                    var router = i % 2 == 0 ? cluster.HostA : cluster.HostB;
                    try
                    {
                        var (fault, identity) = await CallAsync(router, "rolling/");
                        if (fault is not null) failures.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} via {router.Name}: {fault}");
                        else served.AddOrUpdate($"{identity} via {router.Name}", 1, (_, n) => n + 1);
                    }
                    catch (Exception e)
                    {
                        failures.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} via {router.Name}: {e.GetType().Name} {e.Message}");
                    }
                    await Task.Delay(10);
                }
            });
            int Served(string key) => served.GetValueOrDefault(key);
            var v2 = cluster.StartWorkerWith(cluster.Hosts[16], "v2", cluster.HostB, member: false, sharing, "rolling/");
            try
            {
                await v2.WaitForLineAsync(registered, StartTimeout);
                // B's own worker takes B's connections; A relays to its own v1 while it has it.
                await cluster.RouterA.WaitForLineAsync($"Registered {PortShareHost.Regex(Address("rolling/"))} for worker pid \\d+ at {PortShareHost.Regex(cluster.Hosts[16].Address.ToString())}", Visible);
                await WaitUntil(() => Served($"v2 via {cluster.HostB.Name}") >= 20, "v2 serves B's clients");

                v1.Signal("TERM");
                Assert.True(await v1.WaitForExitAsync(TimeSpan.FromSeconds(60)), "v1 drains and exits");
                Assert.Equal(0, v1.ExitCode);
                var atExit = Served($"v2 via {cluster.HostA.Name}");
                await WaitUntil(() => Served($"v2 via {cluster.HostA.Name}") >= atExit + 50, "A relays to B's v2 once its own v1 left");
            }
            finally
            {
                await stop.CancelAsync();
                await loop;
                await FixtureStop(v2);
                output.WriteLine($"served: {string.Join(", ", served.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}"))}; " +
                    $"{failures.Count} failed\n{string.Join("\n", failures.Take(20))}");
            }
            Assert.Empty(failures);
            Assert.True(Served($"v1 via {cluster.HostA.Name}") > 0 && Served($"v1 via {cluster.HostB.Name}") > 0, "v1 served both routers' clients first");
        });
    }

    private static async Task FixtureStop(ManagedProcess worker)
    {
        worker.Signal("TERM");
        if (!await worker.WaitForExitAsync(TimeSpan.FromSeconds(30))) worker.Kill();
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(what);
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_worker_member_whose_router_is_killed_moves_to_another_router_and_back_when_it_returns_and_its_clients_see_no_failure()
    {
        await WithLogs(async () =>
        {
            var hostC = cluster.Hosts[8];
            var routerC = await cluster.StartRouterAsync(hostC, cluster.HostA);
            var n = cluster.StartWorker(cluster.Hosts[9], "n", hostC, member: true, "moving/");
            var registered = $"Registered {PortShareHost.Regex(Address("moving/"))} with the router";
            await n.WaitForLineAsync(registered, StartTimeout);
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
                Assert.Equal((null, "n"), await Eventually(() => CallAsync(router, "moving/"), r => r.Identity == "n"));

            // Clients of A and B call all along: while C is unreachable (they relay to N through C's registration),
            // when the split-brain resolver downs C, and after N registered again with the oldest router (A).
            var linesN = n.LineCount;
            hostC.KillAll();
            var failures = new List<string>();
            var calls = 0;
            var moved = n.WaitForLineAsync(registered, TimeSpan.FromSeconds(60), linesN);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(75);
            var after = 0;
            while (after < 20 && calls < 5_000 && DateTime.UtcNow < deadline)
            {
                foreach (var router in new[] { cluster.HostA, cluster.HostB })
                {
                    calls++;
                    var result = await CallAsync(router, "moving/");
                    if (result != (null, "n")) failures.Add($"{DateTime.UtcNow:HH:mm:ss.fff} via {router.Name}: {result}");
                }
                if (moved.IsCompleted) after++;
                await Task.Delay(50);
            }
            output.WriteLine($"{calls} calls, {failures.Count} failed; N moved: {moved.IsCompletedSuccessfully}\n{string.Join("\n", failures.Take(20))}");
            Assert.True(moved.IsCompletedSuccessfully, "N registers with another router once C left the cluster");
            Assert.Contains("left the cluster: registering 1 address(es) with router " + RemotingAddress(cluster.HostA), n.Output);
            Assert.Empty(failures);

            // C comes back (its service manager restarted it): N goes home, moved by the cluster in one step, while
            // clients of A and B go on calling; then C serves it too.
            linesN = n.LineCount;
            var routerC2 = await cluster.StartRouterAsync(hostC, cluster.HostA);
            var home = n.WaitForLineAsync(registered, TimeSpan.FromSeconds(60), linesN);
            after = 0;
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(75);
            while (after < 20 && calls < 10_000 && DateTime.UtcNow < deadline)
            {
                foreach (var router in new[] { cluster.HostA, cluster.HostB })
                {
                    calls++;
                    var result = await CallAsync(router, "moving/");
                    if (result != (null, "n")) failures.Add($"{DateTime.UtcNow:HH:mm:ss.fff} via {router.Name}: {result}");
                }
                if (home.IsCompleted) after++;
                await Task.Delay(50);
            }
            output.WriteLine($"{calls} calls in all, {failures.Count} failed; N back home: {home.IsCompletedSuccessfully}\n{string.Join("\n", failures.Take(20))}");
            Assert.True(home.IsCompletedSuccessfully, "N registers with its own router again once it is back");
            Assert.Contains("is back in the cluster: registering 1 address(es) with it again", n.Output);
            Assert.Empty(failures);
            Assert.Equal((null, "n"), await Eventually(() => CallAsync(hostC, "moving/"), r => r.Identity == "n"));
            await routerC2.WaitForLineAsync($"Registered {PortShareHost.Regex(Address("moving/"))} for worker .*granted by the cluster", Visible);
            await cluster.RouterA.WaitForLineAsync($"moved {PortShareHost.Regex(Address("moving/"))} to router", Visible);
            await StopMemberAsync(n);
            routerC2.Signal("TERM");
            await routerC2.WaitForExitAsync(TimeSpan.FromSeconds(30));
        });
    }

    [Fact]
    public async Task A_partition_leaves_one_owner_per_address_and_the_split_brain_resolver_ends_the_minority_router_and_worker()
    {
        await WithLogs(async () =>
        {
            if (!cluster.Hosts.Isolated) return; // partitions need network namespaces (loopback addresses cannot be cut)
            var hostD = cluster.Hosts[10];
            var routerD = await cluster.StartRouterAsync(hostD, cluster.HostA);
            // Q (not a member) registers with D, from a host that stays with the majority; P, a member, registers
            // with B from a host that is cut off with D (each side its own link down: no route between them).
            var q = cluster.StartWorker(cluster.Hosts[11], "q", hostD, "split/");
            var p = cluster.StartWorker(cluster.Hosts[12], "p", cluster.HostB, member: true, "cut/");
            await q.WaitForLineAsync($"Registered {PortShareHost.Regex(Address("split/"))} with the router", StartTimeout);
            await p.WaitForLineAsync($"Registered {PortShareHost.Regex(Address("cut/"))} with the router", StartTimeout);
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
            {
                Assert.Equal((null, "q"), await Eventually(() => CallAsync(router, "split/"), r => r.Identity == "q"));
                Assert.Equal((null, "p"), await Eventually(() => CallAsync(router, "cut/"), r => r.Identity == "p"));
            }

            var linesA = cluster.RouterA.LineCount;
            var watch = Stopwatch.StartNew();
            hostD.Partition();
            cluster.Hosts[12].Partition();
            // While D is cut off, the address stays D's worker's on the majority side: a second worker is refused.
            var r = cluster.StartWorker(cluster.Hosts[4], "r1", cluster.HostA, "split/");
            await r.WaitForLineAsync("AddressAlreadyInUse", StartTimeout);
            Assert.True(await r.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(76, r.ExitCode);
            // P is unreachable: out of every route at once, and downed. Either the failure detector marks it
            // unreachable (the registry downs it), or Akka.Remote quarantines it first and its actor system is gone
            // for the registry at once (CI, 2026-12-04: "Marking node as TERMINATED ... due to quarantine"); its exit
            // 69 below is asserted either way.
            await cluster.RouterB.WaitForLineAsync(
                "Downing worker node|is gone \\(its actor system is unreachable or stopped\\): removed 1 address\\(es\\) net.tcp://\\+:\\d+/cut/",
                TimeSpan.FromSeconds(30));
            output.WriteLine($"P out of the routes and downed {watch.ElapsedMilliseconds} ms after the cut");
            // The split-brain resolver (2 routers of 3 on this side, stable-after 5 s) downs D: its address leaves.
            await cluster.RouterA.WaitForLineAsync($"Router {PortShareHost.Regex(RemotingAddress(hostD))} left the cluster", TimeSpan.FromSeconds(60), linesA);
            output.WriteLine($"D removed on the majority side {watch.ElapsedMilliseconds} ms after the cut");
            // The minority side ends itself: D and P down themselves and exit 69 (their service managers restart them).
            Assert.True(await routerD.WaitForExitAsync(TimeSpan.FromSeconds(60)), "D ends on the minority side");
            Assert.Equal(69, routerD.ExitCode);
            Assert.True(await p.WaitForExitAsync(TimeSpan.FromSeconds(60)), "P ends: it was downed");
            Assert.Equal(69, p.ExitCode);
            output.WriteLine($"D and P exited {watch.ElapsedMilliseconds} ms after the cut");

            // Healed: the address is free and one worker gets it.
            hostD.Partition(cut: false);
            cluster.Hosts[12].Partition(cut: false);
            var r2 = cluster.StartWorker(cluster.Hosts[4], "r2", cluster.HostB, "split/");
            await r2.WaitForLineAsync($"Registered {PortShareHost.Regex(Address("split/"))} with the router", StartTimeout);
            foreach (var router in new[] { cluster.HostA, cluster.HostB })
                Assert.Equal((null, "r2"), await Eventually(() => CallAsync(router, "split/"), x => x.Identity == "r2"));
        });
    }

    [Fact]
    public async Task A_reliable_session_whose_connection_is_cut_again_and_again_continues_through_either_router()
    {
        await WithLogs(async () =>
        {
            // A WCF reliable-session service on a worker member registered with A; the client reaches the routers
            // through a relay that cuts its connection at random points and sends each new connection to the next
            // router (A, B, A, ...), as a load balancer in front of them would.
            var s = cluster.StartWorker(cluster.Hosts[13], "s", cluster.HostA, member: true, "wcf:rm/echo/");
            await s.WaitForLineAsync($"Registered {PortShareHost.Regex(Address("rm/echo/"))} with the router", StartTimeout);
            await cluster.RouterB.WaitForLineAsync($"Registered {PortShareHost.Regex(Address("rm/echo/"))} for worker pid \\d+ at", Visible);
            using var relay = new CuttingRelay([new(cluster.HostA.Address, Port), new(cluster.HostB.Address, Port)],
                seed: 20261202, minBytes: 2_000, maxBytes: 15_000);
            _relay = relay;
            const int messages = 300;
            var summary = ReliableEchoLoop.Run($"net.tcp://localhost:{relay.Port}/rm/echo/", messages);
            output.WriteLine($"{messages} one-way + {messages / 10} request/reply messages, {relay.Cuts} cuts, connections " +
                $"through A / B: {string.Join(" / ", relay.ConnectionsPerTarget)}; service saw: {summary}");
            // Nothing lost, duplicated or reordered, and the session did cross routers.
            Assert.Equal($"received={messages} outOfOrder=0", summary);
            Assert.All(relay.ConnectionsPerTarget, n => Assert.True(n >= 2, $"connections per router: {string.Join(", ", relay.ConnectionsPerTarget)}"));
            await StopMemberAsync(s);
        });
    }

    [Fact]
    public async Task A_reliable_session_reaches_its_worker_when_its_connection_lands_on_another_routers_worker_of_its_shared_address()
    {
        await WithLogs(async () =>
        {
            // One worker beside each router shares the address (hand-over channels; each router prefers its own).
            // Every new connection of the client goes to the next router, so half of them reach the worker that does
            // not hold the session: it passes them back to its router, which relays them to the holder on the other
            // host, the session's key naming it (carried in the cluster's registration).
            const string sharing = "share-addresses = on";
            var wa = cluster.StartWorkerBesideRouter(cluster.HostA, "rm-a", sharing, "wcf:rm/shared/");
            var wb = cluster.StartWorkerBesideRouter(cluster.HostB, "rm-b", sharing, "wcf:rm/shared/");
            await ReliableSessionAcrossRoutersAsync("rm/shared/", (wa, cluster.HostA), (wb, cluster.HostB), seed: 20261203,
                moved: "belongs to another worker of its address", what: "passed back");
        });
    }

    [Fact]
    public async Task A_reliable_session_reaches_its_worker_when_its_relayed_connection_lands_on_another_worker_of_its_shared_address()
    {
        if (!cluster.Hosts.Isolated) return; // on loopback addresses the routers reach the hand-over sockets: nothing is relayed
        await WithLogs(async () =>
        {
            // Workers on hosts of their own (relayed to, as on other machines), one registered with each router, share
            // the address; each router relays to its own. Every new connection of the client goes to the next router,
            // so half of them reach the worker that does not hold the session through a relay no router can take
            // back: that worker asks its router where the session's worker is (the cluster's registrations carry its
            // key and data endpoint) and carries the connection there itself.
            const string sharing = "share-addresses = on";
            var w1 = cluster.StartWorkerWith(cluster.Hosts[15], "rr-1", cluster.HostA, member: false, sharing, "wcf:rr/shared/");
            var w2 = cluster.StartWorkerWith(cluster.Hosts[16], "rr-2", cluster.HostB, member: false, sharing, "wcf:rr/shared/");
            await ReliableSessionAcrossRoutersAsync("rr/shared/", (w1, cluster.Hosts[15]), (w2, cluster.Hosts[16]), seed: 20261204,
                moved: "carried to .*, the worker that holds its reliable session", what: "carried on");
        });
    }

    /// <summary>
    /// The real WCF client with a reliable session through a relay that cuts its connection at random points and sends
    /// each new connection to the next router; <paramref name="ofA"/> and <paramref name="ofB"/> share
    /// <paramref name="path"/>, registered with router A and B. Nothing may be lost, duplicated or reordered, and the
    /// workers' logs must show at least two connections <paramref name="moved"/> (else the case was not exercised).
    /// </summary>
    private async Task ReliableSessionAcrossRoutersAsync(string path, (ManagedProcess Worker, SimulatedHost Host) ofA,
        (ManagedProcess Worker, SimulatedHost Host) ofB, int seed, string moved, string what)
    {
        var registered = $"Registered {PortShareHost.Regex(Address(path))} with the router";
        await ofA.Worker.WaitForLineAsync(registered, StartTimeout);
        await ofB.Worker.WaitForLineAsync(registered, StartTimeout);
        var known = $"Registered {PortShareHost.Regex(Address(path))} for worker pid \\d+ at ";
        await cluster.RouterA.WaitForLineAsync(known + PortShareHost.Regex(ofB.Host.Address.ToString()), Visible);
        await cluster.RouterB.WaitForLineAsync(known + PortShareHost.Regex(ofA.Host.Address.ToString()), Visible);
        using var relay = new CuttingRelay([new(cluster.HostA.Address, Port), new(cluster.HostB.Address, Port)],
            seed: seed, minBytes: 2_000, maxBytes: 15_000);
        _relay = relay;
        const int messages = 300;
        var summary = ReliableEchoLoop.Run($"net.tcp://localhost:{relay.Port}/{path}", messages);
        int Moved(ManagedProcess w) => System.Text.RegularExpressions.Regex.Matches(w.Output, moved).Count;
        output.WriteLine($"{messages} one-way + {messages / 10} request/reply messages, {relay.Cuts} cuts, connections " +
            $"through A / B: {string.Join(" / ", relay.ConnectionsPerTarget)}, {what} by A's / B's worker: " +
            $"{Moved(ofA.Worker)} / {Moved(ofB.Worker)}; service saw: {summary}");
        Assert.Equal($"received={messages} outOfOrder=0", summary);
        Assert.True(Moved(ofA.Worker) + Moved(ofB.Worker) >= 2, $"no connection was {what}: the test did not exercise it");
        await FixtureStop(ofA.Worker);
        await FixtureStop(ofB.Worker);
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
            var texts = new Dictionary<string, string> { ["failure"] = e.ToString() };
            if (_relay is { } relay) texts["relay"] = relay.Journal;
            var saved = cluster.SaveLogs(texts);
            throw new Xunit.Sdk.XunitException($"{e.Message}\n{saved}\n{cluster.Tails()}\n{e}");
        }
    }

    // The spec's cutting relay, if it has one: its journal goes with the logs of a failure.
    private CuttingRelay? _relay;
}
