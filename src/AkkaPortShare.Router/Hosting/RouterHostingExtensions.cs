using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Listening;
using AkkaPortShare.Router.Registration;
using AkkaPortShare.Router.Supervision;
using AkkaPortShare.Registration;

namespace AkkaPortShare.Router.Hosting;

/// <summary>ActorRegistry keys of the router's top-level actors.</summary>
public sealed class PortShareRegistry;

public sealed class PortShareListener;

public sealed class PortShareFaultDrains;

/// <summary>Code-level overrides; only the properties that are set become HOCON, and they win over the file.</summary>
public sealed class RouterOptions
{
    public int? Port { get; set; }
    public string? ListenAddress { get; set; }
    public HandoverMode? HandoverMode { get; set; }
    public TimeSpan? ReceiveTimeout { get; set; }
    public int? MaxPendingConnections { get; set; }

    internal string ToHocon()
    {
        var lines = new List<string>();
        if (Port is { } port) lines.Add($"port = {port}");
        if (ListenAddress is { } address) lines.Add($"listen-address = \"{address}\"");
        if (HandoverMode is { } mode) lines.Add($"handover-mode = {mode.ToString().ToLowerInvariant()}");
        if (ReceiveTimeout is { } timeout) lines.Add($"receive-timeout = {(long)timeout.TotalMilliseconds}ms");
        if (MaxPendingConnections is { } pending) lines.Add($"max-pending-connections = {pending}");
        return $"{RouterSettings.ConfigPath} {{\n{string.Join("\n", lines)}\n}}";
    }
}

public static class RouterHostingExtensions
{
    /// <summary>The registry lives at this path; workers send their registrations to it.</summary>
    public const string RegistryName = "port-share-registry";
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
        return builder
            .AddHocon(options.ToHocon(), HoconAddMode.Prepend)
            .AddHocon(RouterSettings.DefaultConfig(), HoconAddMode.Append)
            .AddHocon(RegistryProtocolConfig.Default(), HoconAddMode.Append)
            .WithActors((system, registry) =>
            {
                var settings = RouterSettings.Create(system);
                var drains = system.ActorOf(FaultDrainActor.Props(settings), FaultDrainsName);
                var registryActor = system.ActorOf(RegistryActor.Props(settings, drains), RegistryName);
                var listener = system.ActorOf(ListenerActor.Props(settings, registryActor, drains), ListenerName);
                registry.Register<PortShareRegistry>(registryActor);
                registry.Register<PortShareListener>(listener);
                registry.Register<PortShareFaultDrains>(drains);
                system.ActorOf(CoreActorWatchdog.Props([listener, registryActor, drains]), WatchdogName);
            });
    }
}
