using AkkaPortShare.Contracts.Hosting;
using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Worker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.Worker.Tests.Hosting;

/// <summary>
/// The worker's health checks in a started host, as an application's health endpoint sees them: live while the
/// worker actor answers; ready once every address is registered. The router is this actor system: a stand-in
/// registry at its path answers Registered for every address but those containing "/unanswered/".
/// </summary>
public sealed class WorkerHealthChecksSpec : IAsyncLifetime
{
    private const string SystemName = "WorkerHealthChecksSpec";
    private const string Registered = "net.tcp://+:8808/echo/";
    private const string Unanswered = "net.tcp://+:8808/unanswered/";

    private readonly string _handoverDirectory = Path.Combine(Path.GetTempPath(), $"aps-health-spec-{Guid.NewGuid():N}");
    private readonly List<IHost> _hosts = [];

    private sealed class StandInRegistry : ReceiveActor
    {
        public StandInRegistry() =>
            Receive<Register>(r => !r.BaseAddress.Contains("/unanswered/"),
                r => Sender.Tell(new Registered(r.BaseAddress, "relay")));
    }

    private sealed class Idle : ReceiveActor;

    private async Task<IHost> StartAsync(params string[] addresses)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddHealthChecks();
        builder.Services.AddAkka(SystemName, akka =>
        {
            akka.AddHocon($$"""
                akka.actor.provider = local
                akka-port-share.worker {
                  handover-directory = "{{_handoverDirectory}}"
                  registration-retry { min-backoff = 100ms, max-backoff = 200ms }
                }
                """, HoconAddMode.Prepend);
            akka.WithActors((system, _) => system.ActorOf(Props.Create<StandInRegistry>(), "port-share-registry"));
            akka.WithPortShareWorker(worker =>
            {
                worker.Router = $"akka://{SystemName}";
                foreach (var address in addresses) worker.Serve(address, Props.Create<Idle>());
            });
        });
        var host = builder.Build();
        _hosts.Add(host);
        await host.StartAsync();
        return host;
    }

    private static Task<HealthReport> CheckAsync(IHost host, string tag) =>
        host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains(tag));

    private static Task<HealthReport> EventuallyAsync(IHost host, string tag, HealthStatus status) =>
        EventuallyAsync(host, tag, report => report.Status == status);

    // Polls the checks until the report is as expected (or 10 s passed): the report is the event waited for.
    private static async Task<HealthReport> EventuallyAsync(IHost host, string tag, Func<HealthReport, bool> expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var report = await CheckAsync(host, tag);
            if (expected(report) || DateTime.UtcNow > deadline) return report;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_worker_whose_addresses_are_all_registered_is_live_and_ready()
    {
        var host = await StartAsync(Registered);

        var ready = await EventuallyAsync(host, HealthTags.Ready, HealthStatus.Healthy);

        Assert.Equal(HealthStatus.Healthy, ready.Status);
        Assert.Equal("Registered", ready.Entries[WorkerHealthChecks.ReadyName].Data[Registered]);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host, HealthTags.Live)).Status);
    }

    [Fact]
    public async Task A_worker_with_an_address_still_pending_is_live_but_not_ready_and_says_which()
    {
        var host = await StartAsync(Registered, Unanswered);
        await EventuallyAsync(host, HealthTags.Live, HealthStatus.Healthy);

        // Once the registry answered the other address, only the unanswered one keeps it from being ready.
        var ready = await EventuallyAsync(host, HealthTags.Ready,
            r => r.Entries[WorkerHealthChecks.ReadyName].Data.TryGetValue(Registered, out var state) && "Registered".Equals(state));

        Assert.Equal(HealthStatus.Unhealthy, ready.Status);
        Assert.Equal($"{Unanswered} Pending", ready.Entries[WorkerHealthChecks.ReadyName].Description);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host, HealthTags.Live)).Status);
    }

    [Fact]
    public async Task A_worker_whose_actor_stopped_is_neither_live_nor_ready()
    {
        var host = await StartAsync(Registered);
        await EventuallyAsync(host, HealthTags.Ready, HealthStatus.Healthy);

        var worker = host.Services.GetRequiredService<ActorRegistry>().Get<PortShareWorker>();
        await worker.GracefulStop(TimeSpan.FromSeconds(5));

        var live = await CheckAsync(host, HealthTags.Live);
        Assert.Equal(HealthStatus.Unhealthy, live.Status);
        Assert.Contains("did not answer", live.Entries[WorkerHealthChecks.LiveName].Description);
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(host, HealthTags.Ready)).Status);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.StopAsync();
            host.Dispose();
        }
        try { Directory.Delete(_handoverDirectory, recursive: true); } catch { /* never created */ }
    }
}
