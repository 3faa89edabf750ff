using System.Diagnostics;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>
/// A worker that is alive but stops reading its hand-over channel (SIGSTOP) must not stall the router: its new
/// clients get ConnectionDispatchFailed within handover-timeout, other workers' clients are served meanwhile, and
/// once it runs again (SIGCONT) it is served again. The few hand-overs the kernel already holds for it (the
/// channel's send buffer, handover-send-buffer) are the worker's and are served when it resumes.
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class StuckWorkerSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan HandoverTimeout = TimeSpan.FromSeconds(2);
    private const int Clients = 40;

    [Fact]
    public async Task A_stopped_worker_s_clients_get_a_fault_within_handover_timeout_and_it_is_served_again_after_SIGCONT()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync(extraHocon: $"akka-port-share.router.handover-timeout = {HandoverTimeout.TotalMilliseconds}ms");
        var stuck = await host.StartWorkerAsync("stuck", "stuck/");
        await host.StartWorkerAsync("other", "other/");
        Assert.Equal("stuck", await CallAsync(host, "stuck/svc"));

        Signal(stuck.Id, "STOP");
        var started = Stopwatch.StartNew();
        List<Task<(string? Fault, TimeSpan After, FramingClient Client)>> opens;
        var clients = new List<FramingClient>();
        try
        {
            opens = Enumerable.Range(0, Clients).Select(async _ =>
            {
                var client = await FramingClient.ConnectAsync(host.Port);
                lock (clients) clients.Add(client);
                var fault = await client.OpenAsync(host.Via("stuck/svc"));
                return (fault, started.Elapsed, client);
            }).ToList();

            // Another worker is served while this one is stopped and its hand-overs wait.
            Assert.Equal("other", await CallAsync(host, "other/svc"));
            var otherServedAfter = started.Elapsed;

            // All but the few the kernel holds for the stopped worker are answered while it is still stopped.
            var deadline = DateTime.UtcNow + HandoverTimeout + TimeSpan.FromSeconds(6);
            while (opens.Count(o => o.IsCompleted) < Clients - 12 && DateTime.UtcNow < deadline) await Task.Delay(50);
            var answeredWhileStopped = opens.Where(o => o.IsCompletedSuccessfully).Select(o => o.Result).ToList();
            output.WriteLine($"other worker served after {otherServedAfter.TotalMilliseconds:F0} ms; " +
                             $"{answeredWhileStopped.Count} of {Clients} answered while stopped, the last after " +
                             $"{answeredWhileStopped.Select(a => a.After).DefaultIfEmpty().Max().TotalMilliseconds:F0} ms");
            Assert.True(answeredWhileStopped.Count >= Clients - 12, $"only {answeredWhileStopped.Count} answered while the worker was stopped");
            Assert.All(answeredWhileStopped, a => Assert.Equal(FramingFaults.ConnectionDispatchFailed, a.Fault));
            Assert.All(answeredWhileStopped, a => Assert.True(a.After < HandoverTimeout + TimeSpan.FromSeconds(4),
                $"a fault came after {a.After}"));
        }
        finally
        {
            Signal(stuck.Id, "CONT");
        }

        try
        {
            // The hand-overs the kernel held reach the worker now and are served; nobody was left hanging.
            var all = await Task.WhenAll(opens);
            var servedLate = all.Where(a => a.Fault is null).ToList();
            output.WriteLine($"{servedLate.Count} held by the kernel and served after SIGCONT");
            foreach (var late in servedLate) Assert.Equal("stuck", await late.Client.CallAsync("whoami"));
            Assert.Equal("stuck", await CallAsync(host, "stuck/svc"));
            Assert.True(host.Router!.CountLines("not taken within handover-timeout") >= Clients - 12);
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }

    private static async Task<string> CallAsync(PortShareHost host, string path)
    {
        using var client = await FramingClient.ConnectAsync(host.Port);
        Assert.Null(await client.OpenAsync(host.Via(path)));
        return await client.CallAsync("whoami");
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString()]) ?? throw new InvalidOperationException("kill");
        kill.WaitForExit(5000);
        Assert.Equal(0, kill.ExitCode);
    }
}
