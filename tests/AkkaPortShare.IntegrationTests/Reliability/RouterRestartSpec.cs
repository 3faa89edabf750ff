using System.Diagnostics;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>The router killed and started again on the same ports, with nobody touching the workers.</summary>
public sealed class RouterRestartSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task Workers_register_again_by_themselves_and_handed_over_sessions_carry_on()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync(handoverMode: "fd");
        var worker = await host.StartWorkerAsync("steady", "s/");
        using var before = await FramingClient.ConnectAsync(host.Port);
        Assert.Null(await before.OpenAsync(host.Via("s/svc")));
        Assert.Equal("before", await before.CallAsync("before"));
        var registeredLines = worker.LineCount;

        host.Router!.Kill();
        Assert.Equal("while down", await before.CallAsync("while down"));
        var router = await host.StartRouterAsync(handoverMode: "fd");
        var restarted = Stopwatch.StartNew();

        // Bounded wait: the worker notices on its own (its hand-over channel closed) and registers with back-off.
        await worker.WaitForLineAsync($"Registered {PortShareHost.Regex(host.Address("s/"))} with the router", TimeSpan.FromSeconds(30),
            fromLine: registeredLines);
        var registeredAfter = restarted.Elapsed;
        output.WriteLine($"registered again {registeredAfter.TotalSeconds:F1} s after the new router was listening");

        using var after = await FramingClient.ConnectAsync(host.Port);
        Assert.Null(await after.OpenAsync(host.Via("s/svc")));
        Assert.Equal("steady", await after.CallAsync("whoami"));
        // The session handed over before the restart never noticed.
        for (var i = 0; i < 10; i++) Assert.Equal($"after {i}", await before.CallAsync($"after {i}"));
        await before.CloseSessionAsync();
        Assert.Contains("Lost the router", worker.Output);
        Assert.Contains("Registered", router.Output);
    }
}
