using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.Routing;

/// <summary>One router with two echo workers, A serving /a/ and B serving /b/, shared by non-destructive tests.</summary>
public sealed class SharedPortFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();
    public ManagedProcess WorkerA { get; private set; } = null!;
    public ManagedProcess WorkerB { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Host.StartRouterAsync();
        WorkerA = await Host.StartWorkerAsync("worker-A", "a/");
        WorkerB = await Host.StartWorkerAsync("worker-B", "b/");
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}
