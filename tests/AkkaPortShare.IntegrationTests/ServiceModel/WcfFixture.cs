using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

/// <summary>
/// A router and two workers serving the sample's WCF contracts: A at /a/echo/ (and the duplex contract at
/// /a/duplex/), B at /b/echo/. Both accept messages (and strings: WCF's MaxStringContentLength, in HOCON) up to 4 MB,
/// so large-message tests can raise the client's quota to match.
/// </summary>
public sealed class WcfFixture : IAsyncLifetime
{
    public const int RaisedQuota = 4 * 1024 * 1024;

    public PortShareHost Host { get; } = new();

    public Uri EchoA => new(Host.Via("a/echo/"));
    public Uri EchoB => new(Host.Via("b/echo/"));
    public Uri DuplexA => new(Host.Via("a/duplex/"));
    public Uri Streams => new(Host.Via("s/stream/"));
    public ManagedProcess StreamWorker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // The WCF client blocks a thread-pool thread per synchronous call; with 32 concurrent channels on two
        // cores the pool's slow growth, not the server, would set the pace of the concurrency test.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
        await Host.StartRouterAsync();
        var quotas = Host.WriteConfig($$"""
            akka-port-share.worker.max-message-size = {{RaisedQuota}}b
            akka-port-share.service-model.max-reply-size = {{RaisedQuota}}b
            akka-port-share.service-model.max-string-content-length = {{RaisedQuota}}
            """);
        var streamLimits = Host.WriteConfig("akka-port-share.worker.max-message-size = 300m");
        // WcfStreamingSpec reads this worker's peak memory to tell a message held whole (100 MB) from one streamed. The
        // GC lets short-lived garbage reach its gen0 budget before it collects, and .NET sizes that budget from the L3
        // cache: on a machine with 260 MiB of L3 the streams' garbage alone reached 82 MB. A fixed 16 MB budget keeps
        // the peak about what is held.
        var streamWorker = Host.StartWorkerAsync("worker-S", ["--stream-address", Host.Address("s/stream/"), "--config", streamLimits],
            new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0x1000000" }, "s/stream/");
        await Task.WhenAll(
            streamWorker,
            Host.StartWorkerAsync("worker-A",
                ["--wcf-address", Host.Address("a/echo/"), "--duplex-address", Host.Address("a/duplex/"), "--config", quotas],
                "a/echo/", "a/duplex/"),
            Host.StartWorkerAsync("worker-B", ["--wcf-address", Host.Address("b/echo/"), "--config", quotas], "b/echo/"));
        StreamWorker = await streamWorker;
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}
