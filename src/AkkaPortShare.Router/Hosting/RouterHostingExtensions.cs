using Akka;
using Akka.Event;
using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Relay;
using AkkaPortShare.Router.Control;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Listening;
using AkkaPortShare.Router.Registration;
using AkkaPortShare.Router.Supervision;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Contracts.Hosting;

namespace AkkaPortShare.Router.Hosting;

/// <summary>ActorRegistry keys of the router's top-level actors.</summary>
public sealed class PortShareRegistry;

public sealed class PortShareListener;

public sealed class PortShareFaultDrains;

public static class RouterHostingExtensions
{
    /// <summary>The registry lives at this path; workers send their registrations to it.</summary>
    public const string RegistryName = RegistryProtocol.RegistryName;
    public const string ListenerName = "port-share-listener";
    public const string FaultDrainsName = "port-share-fault-drains";
    public const string WatchdogName = "port-share-watchdog";

    /// <summary>
    /// Runs the port-sharing router in this actor system: the registry workers register with, and the listener
    /// on the shared port. The actor system needs remoting (reference.conf turns it on, on loopback).
    /// </summary>
    public static AkkaConfigurationBuilder WithPortShareRouter(this AkkaConfigurationBuilder builder,
        Action<RouterOptions>? configure = null)
    {
        var options = new RouterOptions();
        configure?.Invoke(options);
        RouterSettings? started = null; // the health checks' timeout, once the settings are read
        return builder
            .AddHocon(options.ToHocon(), HoconAddMode.Prepend)
            .AddHocon(RouterSettings.DefaultConfig(), HoconAddMode.Append)
            .AddHocon(RegistryProtocolConfig.Default(), HoconAddMode.Append)
            .WithRouterHealthChecks(() => started)
            .WithActors((system, registry, resolver) =>
            {
                OutboundTlsFailureGuard.InstallIfTls(system);
                RouterSettings settings;
                try
                {
                    settings = RouterSettings.Create(system); // the file and the options set here in C#
                }
                catch (SettingsException e)
                {
                    ProcessExit.InvalidConfiguration(system, typeof(RouterHostingExtensions), "router", e.Problems);
                    return; // nothing started: the process is stopping
                }
                started = settings;
                // The splice engine's threads, and its one-time check of the kernel, before the first relayed connection.
                if (settings.HandoverMode != HandoverMode.Fd) RelayEngines.Get(system, settings);
                var drains = system.ActorOf(FaultDrainActor.Props(settings), FaultDrainsName);
                // Clients may have waited in an inherited socket's backlog while the router restarted: their workers
                // get restart-grace to register again before an unmatched via is answered EndpointNotFound.
                var grace = options.SharedPort is { Inherited: true } ? settings.RestartGrace : TimeSpan.Zero;
                var registryActor = system.ActorOf(RegistryActor.Props(settings, drains, grace, ClusterRegistry(system)), RegistryName);
                var listener = system.ActorOf(ListenerActor.Props(settings, registryActor, drains, options.SharedPort), ListenerName);
                registry.Register<PortShareRegistry>(registryActor);
                registry.Register<PortShareListener>(listener);
                registry.Register<PortShareFaultDrains>(drains);
                system.ActorOf(CoreActorWatchdog.Props([listener, registryActor, drains]), WatchdogName);
                AddGracefulDrain(system, listener, settings);
                StartControlSocket(system, settings, listener, registryActor, options.SharedPort,
                    resolver.GetService<HealthCheckService>());
            });
    }

    // Routers in one cluster (akka-port-share.cluster.enabled, and WithPortShareCluster made the actor system a
    // cluster member): the registry shares its registrations through its cluster registry. Otherwise null.
    private static Func<IActorRef, Props>? ClusterRegistry(ActorSystem system)
    {
        if (system is not ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider }) return null;
        var settings = Contracts.Cluster.PortShareClusterSettings.Create(system);
        if (!settings.Enabled) return null;
        return registry => Cluster.ClusterRegistryActor.Props(settings, registry);
    }

    // Liveness: the actor system runs and the core actors answer. Readiness: the listener accepts (false while it
    // drains for SIGTERM or after its socket was taken over).
    // The checks are registered before the settings are read (that happens when the actor system starts): until then,
    // or when they are invalid, the router is reported not started.
    private static AkkaConfigurationBuilder WithRouterHealthChecks(this AkkaConfigurationBuilder builder,
        Func<RouterSettings?> settings) => builder
        .WithActorSystemLivenessCheck(tags: [HealthTags.Live])
        .WithHealthCheck("akkaportshare-router-live", async (system, registry, token) =>
        {
            if (settings() is not { HealthCheckTimeout: var timeout }) return NotStarted;
            try
            {
                await registry.Get<PortShareRegistry>().Ask<RouterProtocol.Registrations>(RouterProtocol.GetRegistrations.Instance, timeout, token);
                await registry.Get<PortShareListener>().Ask<RouterProtocol.ListenerStatus>(RouterProtocol.GetListenerStatus.Instance, timeout, token);
                return HealthCheckResult.Healthy("registry and listener answer");
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or MissingActorRegistryEntryException)
            {
                return HealthCheckResult.Unhealthy($"a core actor does not answer: {e.Message}");
            }
        }, tags: [HealthTags.Live])
        .WithHealthCheck("akkaportshare-router-ready", async (system, registry, token) =>
        {
            if (settings() is not { HealthCheckTimeout: var timeout }) return NotStarted;
            try
            {
                var status = await registry.Get<PortShareListener>().Ask<RouterProtocol.ListenerStatus>(
                    RouterProtocol.GetListenerStatus.Instance, timeout, token);
                return status.Accepting
                    ? HealthCheckResult.Healthy($"accepting on {status.LocalEndPoint}")
                    : HealthCheckResult.Unhealthy($"not accepting on {status.LocalEndPoint} (draining)");
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or MissingActorRegistryEntryException)
            {
                return HealthCheckResult.Unhealthy($"the listener does not answer: {e.Message}");
            }
        }, tags: [HealthTags.Ready]);

    private static readonly HealthCheckResult NotStarted = HealthCheckResult.Unhealthy("the router has not started (its settings are not read yet, or invalid)");

    // After the listener has its socket (its port names the default path). A control socket that cannot be opened
    // is logged, not fatal: routing does not need it.
    private static void StartControlSocket(ActorSystem system, RouterSettings settings, IActorRef listener,
        IActorRef registry, SharedPort? sharedPort, HealthCheckService? healthChecks)
    {
        if (!Interop.UnixHandover.IsSupported || settings.ControlSocket == ControlSocketPath.Off) return;
        Func<CancellationToken, Task<IReadOnlyDictionary<string, string>>>? health = healthChecks is null ? null : async token =>
        {
            var report = await healthChecks.CheckHealthAsync(token);
            return report.Entries.ToDictionary(e => e.Key, e => e.Value.Status + (e.Value.Description is { } d ? $": {d}" : ""));
        };
        var server = new ControlServer(system, settings, listener, registry, sharedPort, health);
        system.RegisterOnTermination(server.Dispose);
        _ = Task.Run(async () =>
        {
            try
            {
                var status = await listener.Ask<RouterProtocol.ListenerStatus>(RouterProtocol.GetListenerStatus.Instance, settings.ControlStartTimeout);
                if (ControlSocketPath.For(settings, status.LocalEndPoint.Port) is { } path) server.Start(path);
            }
            catch (Exception e)
            {
                system.Log.Error("No control socket (akkaportshare status will not find this router): {0}", e.Message);
            }
        });
    }

    // SIGTERM (CoordinatedShutdown): stop accepting first (the shared port stays open: with socket activation the
    // next router takes the backlog), then wait until every accepted connection has left the router (handed over,
    // relayed, answered) or drain-timeout passes, before the actors stop. Handed-over sessions are the workers'.
    private static void AddGracefulDrain(ActorSystem system, IActorRef listener, RouterSettings settings)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        var held = HeldConnections.Get(system);
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceUnbind, "port-share-stop-accepting", async () =>
        {
            try
            {
                return await listener.Ask<Done>(RoutingProtocol.StopAccepting.Instance, settings.StopAcceptingTimeout);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return Done.Instance; // the listener is gone already: nothing accepts
            }
        });
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "port-share-drain", async () =>
        {
            if (await ShutdownDrain.WaitAsync(() => held.Count, settings.DrainTimeout) is var left and > 0)
                system.Log.Warning("drain-timeout {0} passed with {1} connection(s) still held ({2}); they are closed",
                    settings.DrainTimeout, left, held.Describe());
            return Done.Instance;
        });
    }
}
