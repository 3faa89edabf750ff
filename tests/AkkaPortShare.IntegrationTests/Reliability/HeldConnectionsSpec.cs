using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.TestSupport.Fuzz.Live;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>
/// A flood of connections that complete their preamble while routing is slow (their worker is stopped with SIGSTOP,
/// so hand-overs wait, then fault and drain): whatever stage they are in, the router holds at most
/// max-held-connections of them, so its descriptors stay bounded; the rest wait in the kernel backlog, and once
/// the worker runs again the router serves again.
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class HeldConnectionsSpec(ITestOutputHelper output)
{
    private const int MaxHeld = 150;
    private const int Flood = 400; // under listen-backlog (512): the kernel keeps the ones not accepted

    [Fact]
    public async Task A_flood_of_complete_preambles_to_a_stopped_worker_holds_at_most_max_held_connections_and_service_resumes()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync(extraHocon: $"akka-port-share.router {{ max-held-connections = {MaxHeld}, handover-timeout = 20s }}");
        var stuck = await host.StartWorkerAsync("stuck", "stuck/");
        using (var first = await FramingClient.ConnectAsync(host.Port)) Assert.Null(await first.OpenAsync(host.Via("stuck/svc")));
        await Task.Delay(300);
        var before = ProcessSample.Of(host.Router!.Id).OpenDescriptors;
        var maxSeen = before;
        var flood = new List<Socket>();
        var preamble = FramingWriter.Preamble(FramingMode.Duplex, host.Via("stuck/svc"));

        stuck.Signal("STOP");
        try
        {
            var connecting = Enumerable.Range(0, Flood).Select(async _ =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                lock (flood) flood.Add(socket);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, host.Port), timeout.Token);
                try
                {
                    await socket.SendAsync(preamble, SocketFlags.None); // and never read: the client waits for its worker
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
                {
                    // Answered already (beyond handover-queue-limit: ConnectionDispatchFailed) and closed: not held.
                }
            }).ToList();
            var sampling = Stopwatch.StartNew();
            while (sampling.Elapsed < TimeSpan.FromSeconds(8))
            {
                maxSeen = Math.Max(maxSeen, ProcessSample.Of(host.Router.Id).OpenDescriptors);
                await Task.Delay(50);
            }
            await Task.WhenAll(connecting);
            var reached = await host.Router.WaitForLineAsync($"max-held-connections {MaxHeld} reached", TimeSpan.FromSeconds(5));
            output.WriteLine(reached);
            output.WriteLine($"{Flood} connections with complete preambles to a stopped worker: router descriptors {before} before, " +
                             $"at most {maxSeen} during the flood (max-held-connections {MaxHeld})");
            // The bound, plus the accepts in flight, the worker's sockets sent but not yet closed, and the runtime's own.
            Assert.True(maxSeen <= before + MaxHeld + 30, $"router descriptors rose from {before} to {maxSeen}");
        }
        finally
        {
            stuck.Signal("CONT");
        }

        try
        {
            // Served again: a fresh client behind the flood reaches the worker.
            var resumed = Stopwatch.StartNew();
            using var fresh = await FramingClient.ConnectAsync(host.Port);
            Assert.Null(await fresh.OpenAsync(host.Via("stuck/svc")));
            Assert.Equal("stuck", await fresh.CallAsync("whoami"));
            output.WriteLine($"a fresh client was served {resumed.ElapsedMilliseconds} ms after SIGCONT; " +
                             $"router descriptors now {ProcessSample.Of(host.Router.Id).OpenDescriptors}");
        }
        finally
        {
            foreach (var socket in flood) socket.Dispose();
        }
    }
}
