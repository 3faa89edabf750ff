using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Contracts.Hosting;
using AkkaPortShare.Worker.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using static AkkaPortShare.Worker.WorkerProtocol;

namespace AkkaPortShare.Worker.Hosting;

/// <summary>
/// The worker's health checks, for Microsoft.Extensions.Diagnostics.HealthChecks (e.g. ASP.NET Core's
/// MapHealthChecks with a tag predicate): <see cref="HealthTags.Live"/> while the actor system runs and the worker actor
/// answers; <see cref="HealthTags.Ready"/> once every address it serves is registered with the router (not while one is
/// pending, e.g. after a router restart, or refused). The router's checks use the same tags (HealthTags).
/// </summary>
public static class WorkerHealthChecks
{
    public const string LiveName = "akka-port-share-worker-live";
    public const string ReadyName = "akka-port-share-worker-ready";

    // The checks are registered before the settings are read (when the actor system starts); health-check-timeout
    // is known once the worker actor is, which is all the checks ask.
    internal static AkkaConfigurationBuilder AddWorkerHealthChecks(this AkkaConfigurationBuilder builder,
        Func<WorkerSettings?> settings) => builder
        .WithHealthCheck(LiveName, (system, registry, cancel) => CheckLiveAsync(system, registry, settings, cancel),
            HealthStatus.Unhealthy, [HealthTags.Live])
        .WithHealthCheck(ReadyName, (system, registry, cancel) => CheckReadyAsync(system, registry, settings, cancel),
            HealthStatus.Unhealthy, [HealthTags.Ready]);

    private static async Task<HealthCheckResult> CheckLiveAsync(ActorSystem system, ActorRegistry registry,
        Func<WorkerSettings?> settings, CancellationToken cancel)
    {
        var (status, problem) = await AskStatusAsync(system, registry, settings, cancel);
        return status is null ? HealthCheckResult.Unhealthy(problem) : HealthCheckResult.Healthy("the worker actor answers");
    }

    private static async Task<HealthCheckResult> CheckReadyAsync(ActorSystem system, ActorRegistry registry,
        Func<WorkerSettings?> settings, CancellationToken cancel)
    {
        var (status, problem) = await AskStatusAsync(system, registry, settings, cancel);
        if (status is null) return HealthCheckResult.Unhealthy(problem);
        var data = status.Addresses.ToDictionary(a => a.BaseAddress, a => (object)a.State.ToString());
        var notRegistered = status.Addresses.Where(a => a.State != RegistrationState.Registered).ToList();
        return notRegistered.Count == 0
            ? HealthCheckResult.Healthy($"{status.Addresses.Count} address(es) registered", data)
            : HealthCheckResult.Unhealthy(
                string.Join("; ", notRegistered.Select(a => $"{a.BaseAddress} {a.State}{(a.Detail is null ? "" : $": {a.Detail}")}")),
                data: data);
    }

    private static async Task<(WorkerStatus? Status, string Problem)> AskStatusAsync(ActorSystem system, ActorRegistry registry,
        Func<WorkerSettings?> settings, CancellationToken cancel)
    {
        if (system.WhenTerminated.IsCompleted) return (null, "the actor system has terminated");
        if (CoordinatedShutdown.Get(system).ShutdownReason is { } reason) return (null, $"the actor system is shutting down ({reason})");
        if (!registry.TryGet<PortShareWorker>(out var worker) || settings() is not { HealthCheckTimeout: var timeout })
            return (null, "the worker actor has not started");
        try
        {
            return (await worker.Ask<WorkerStatus>(GetStatus.Instance, timeout, cancel), "");
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or OperationCanceledException)
        {
            return (null, $"the worker actor did not answer within health-check-timeout {timeout} (stopped or stuck)");
        }
    }
}
