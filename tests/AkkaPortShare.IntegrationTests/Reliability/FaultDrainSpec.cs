using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.TestSupport.Fuzz.Live;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>
/// A client that makes every connection end in a fault, and then neither reads nor closes, used to hold one router
/// socket per connection for fault-timeout (the drain after the fault). max-draining-connections bounds them.
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class FaultDrainSpec(ITestOutputHelper output)
{
    private const int MaxDraining = 20;
    private const int Attacks = 300;

    [Fact]
    public async Task Connections_that_end_in_a_fault_and_stay_open_hold_at_most_max_draining_connections_sockets()
    {
        using var host = new PortShareHost();
        // fault-timeout far beyond the test: without the bound every faulted socket would still be draining at the end.
        await host.StartRouterAsync(extraHocon: $"akka-port-share.router {{ max-draining-connections = {MaxDraining}, fault-timeout = 120s }}");
        await host.StartWorkerAsync("worker", "ok/");
        var before = ProcessSample.Of(host.Router!.Id).OpenDescriptors;
        var maxSeen = before;
        var attackers = new List<FramingClient>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        try
        {
            for (var i = 0; i < Attacks && DateTime.UtcNow < deadline; i++)
            {
                var attacker = await FramingClient.ConnectAsync(host.Port);
                attackers.Add(attacker);
                // Unknown address: EndpointNotFound, then the router drains; the client keeps its end open.
                Assert.Equal(FramingFaults.EndpointNotFound, await attacker.OpenAsync(host.Via($"nothing/{i}")));
                if (i % 10 == 0) maxSeen = Math.Max(maxSeen, ProcessSample.Of(host.Router.Id).OpenDescriptors);
            }
            // Cut drains close their sockets as their tasks see the cancellation: wait for the count to come back
            // within the bound (at most 5 s); if it never does, the last sample fails the assertion below.
            var settled = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            var after = ProcessSample.Of(host.Router.Id).OpenDescriptors;
            while (after > before + MaxDraining + 40 && DateTime.UtcNow < settled)
            {
                await Task.Delay(50);
                after = ProcessSample.Of(host.Router.Id).OpenDescriptors;
            }
            maxSeen = Math.Max(maxSeen, after);

            using var legitimate = await FramingClient.ConnectAsync(host.Port);
            Assert.Null(await legitimate.OpenAsync(host.Via("ok/svc")));
            Assert.Equal("worker", await legitimate.CallAsync("whoami"));

            var cut = host.Router.CountLines("max-draining-connections 20 reached");
            output.WriteLine($"{attackers.Count} faulted connections held open; router descriptors {before} before, " +
                             $"at most {maxSeen}, {after} after; {cut} drains cut short");
            Assert.Equal(Attacks, attackers.Count);
            // The bound plus a margin for the accepts in flight and sockets being closed; unbounded would be +300.
            Assert.True(maxSeen <= before + MaxDraining + 40, $"router descriptors rose from {before} to {maxSeen}");
            Assert.True(cut >= Attacks - MaxDraining - 5, $"only {cut} drains were cut short");
        }
        finally
        {
            foreach (var attacker in attackers) attacker.Dispose();
        }
    }
}
