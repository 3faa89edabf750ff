using System.Diagnostics;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Operations;

/// <summary>
/// SIGTERM on a worker: it unregisters first (new connections for its address go to a replacement worker once
/// that registers), finishes the session in progress, and exits 0 as soon as that session ends.
/// </summary>
public sealed class WorkerDrainSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_terminated_worker_unregisters_first_serves_its_open_session_to_the_end_and_then_exits_0()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        var old = await host.StartWorkerAsync("old", "echo/");
        using var session = await FramingClient.ConnectAsync(host.Port);
        Assert.Null(await session.OpenAsync(host.Via("echo/svc")));
        Assert.Equal("old", await session.CallAsync("whoami"));

        old.Signal("TERM");
        await host.Router!.WaitForLineAsync($"Unregistered {PortShareHost.Regex(host.Address("echo/"))} for worker pid {old.Id}", Timeout);
        Assert.Equal("old", await session.CallAsync("whoami")); // the session in progress goes on

        // The address is free: a replacement registers it and gets the new connections.
        await host.StartWorkerAsync("new", "echo/");
        using (var fresh = await FramingClient.ConnectAsync(host.Port))
        {
            Assert.Null(await fresh.OpenAsync(host.Via("echo/svc")));
            Assert.Equal("new", await fresh.CallAsync("whoami"));
        }
        Assert.Equal("old", await session.CallAsync("whoami"));
        Assert.False(old.HasExited, "the old worker did not wait for its session");

        var ended = Stopwatch.StartNew();
        await session.CloseSessionAsync();
        Assert.True(await old.WaitForExitAsync(Timeout), old.Tail(30));
        output.WriteLine($"the old worker exited {ended.ElapsedMilliseconds} ms after its last session ended");
        Assert.Equal(0, old.ExitCode);
        Assert.True(ended.Elapsed < TimeSpan.FromSeconds(8), $"exited {ended.Elapsed} after the session ended: it waited for drain-timeout (10 s)");
        Assert.Contains("Waiting for 1 session(s) to end", old.Output);
    }
}
