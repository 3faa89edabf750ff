using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.ReliableSessions;

/// <summary>
/// A router and two workers: R serves the echo and duplex contracts with default reliable-session settings;
/// T serves echo with a service that takes one session at a time and queues at most one more, so the
/// pending-channel queue can be filled; V serves echo for WS-RM 1.1 clients only.
/// </summary>
public sealed class ReliableFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();

    public Uri Echo => new(Host.Via("r/echo/"));
    public Uri Duplex => new(Host.Via("r/duplex/"));
    public Uri Throttled => new(Host.Via("t/echo/"));
    public Uri Only11 => new(Host.Via("v/echo/"));

    public async Task InitializeAsync()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        await Host.StartRouterAsync();
        var throttle = Host.WriteConfig("""
            akka-port-share.reliable-session { max-concurrent-sessions = 1, max-pending-channels = 1 }
            """);
        var only11 = Host.WriteConfig("""
            akka-port-share.reliable-session.reliable-messaging-version = wsrm11
            """);
        await Task.WhenAll(
            Host.StartWorkerAsync("worker-R",
                ["--wcf-address", Host.Address("r/echo/"), "--duplex-address", Host.Address("r/duplex/")], "r/echo/", "r/duplex/"),
            Host.StartWorkerAsync("worker-T", ["--wcf-address", Host.Address("t/echo/"), "--config", throttle], "t/echo/"),
            Host.StartWorkerAsync("worker-V", ["--wcf-address", Host.Address("v/echo/"), "--config", only11], "v/echo/"));
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}
