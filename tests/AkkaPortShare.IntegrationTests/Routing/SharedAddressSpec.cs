using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Routing;

/// <summary>
/// Several worker processes for one address (share-addresses = on): new connections are spread over them, one that
/// dies stops getting connections at once, and a worker that does not ask to share still meets the Windows rule.
/// </summary>
public sealed class SharedAddressSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const int Sessions = 20;

    private static async Task<string> WhoServesAsync(PortShareHost host, List<FramingClient> keep)
    {
        var client = await FramingClient.ConnectAsync(host.Port);
        keep.Add(client);
        Assert.Null(await client.OpenAsync(host.Via("pool/svc")));
        return await client.CallAsync("whoami");
    }

    [Fact]
    public async Task Workers_sharing_an_address_take_its_sessions_by_least_connections_and_a_dead_one_gets_none()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        var sharing = host.WriteConfig("akka-port-share.worker.share-addresses = on");
        var a = await host.StartWorkerAsync("a", ["--address", host.Address("pool/"), "--config", sharing], "pool/");
        await host.StartWorkerAsync("b", ["--address", host.Address("pool/"), "--config", sharing], "pool/");
        var open = new List<FramingClient>();
        try
        {
            // Sessions held open: each one the router passes counts until the worker's next report says so too.
            var served = new List<string>();
            for (var i = 0; i < Sessions; i++) served.Add(await WhoServesAsync(host, open));
            output.WriteLine($"{Sessions} open sessions: a {served.Count(s => s == "a")}, b {served.Count(s => s == "b")}");
            Assert.InRange(served.Count(s => s == "a"), Sessions / 2 - 2, Sessions / 2 + 2);

            a.Kill();
            await host.Router!.WaitForLineAsync($"Worker pid {a.Id} .*is gone", Timeout);
            foreach (var client in open) client.Dispose();
            open.Clear();

            var after = new List<string>();
            for (var i = 0; i < 10; i++) after.Add(await WhoServesAsync(host, open));
            Assert.All(after, s => Assert.Equal("b", s));
        }
        finally
        {
            foreach (var client in open) client.Dispose();
        }
    }

    [Fact]
    public async Task A_worker_that_asks_to_share_an_address_held_by_one_that_does_not_is_refused_AddressAlreadyInUse()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        await host.StartWorkerAsync("windows-rule", "only/");
        var sharing = host.WriteConfig("akka-port-share.worker.share-addresses = on");

        var second = host.StartWorkerAs("sharing", null, ["--address", host.Address("only/"), "--config", sharing]);

        Assert.True(await second.WaitForExitAsync(Timeout), second.Tail());
        Assert.Equal(76, second.ExitCode);
        Assert.Contains("AddressAlreadyInUse", second.Output);
        Assert.Contains("without share-addresses", second.Output);
    }
}
