using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Registration;
using AkkaPortShare.Worker.Configuration;
using AkkaPortShare.Worker.Registration;

namespace AkkaPortShare.Worker.Hosting;

/// <summary>ActorRegistry key of the worker actor (ask it <see cref="WorkerProtocol.GetStatus"/>).</summary>
public sealed class PortShareWorker;

/// <summary>What this worker serves, plus code-level overrides (only the ones set become HOCON).</summary>
public sealed class WorkerOptions
{
    internal List<(string Address, Props Service)> Services { get; } = [];

    /// <summary>The router's actor system address, e.g. <c>akka.tcp://akkaportshare@127.0.0.1:8809</c>.</summary>
    public string? Router { get; set; }

    /// <summary>The router's registration-secret, when it has one (read it from a secret store, not from source code).</summary>
    public string? RegistrationSecret { get; set; }

    /// <summary>
    /// Registers a base address such as <c>net.tcp://+:8808/echo/</c> and the actor that serves its sessions
    /// (it receives <see cref="FramingSession"/> messages).
    /// </summary>
    public WorkerOptions Serve(string baseAddress, Props service)
    {
        Services.Add((baseAddress, service));
        return this;
    }

    internal string ToHocon()
    {
        var lines = new List<string>();
        if (Router is not null) lines.Add($"{WorkerSettings.ConfigPath}.router = {Quote(Router)}");
        if (RegistrationSecret is not null) lines.Add($"{WorkerSettings.ConfigPath}.registration-secret = {Quote(RegistrationSecret)}");
        return string.Join("\n", lines);
    }

    // A HOCON quoted string: JSON escaping, so any character (quotes, backslashes, '$') is taken literally.
    private static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value);
}

public static class WorkerHostingExtensions
{
    public const string WorkerName = "port-share-worker";

    /// <summary>
    /// Joins this actor system to an AkkaPortShare router as a worker: registers the configured base addresses
    /// and serves the connections the router hands over.
    /// </summary>
    public static AkkaConfigurationBuilder WithPortShareWorker(this AkkaConfigurationBuilder builder,
        Action<WorkerOptions> configure)
    {
        var options = new WorkerOptions();
        configure(options);
        return builder
            .AddHocon(options.ToHocon(), HoconAddMode.Prepend)
            .AddHocon(WorkerSettings.DefaultConfig(), HoconAddMode.Append)
            .AddHocon(RegistryProtocolConfig.Default(), HoconAddMode.Append)
            .WithActors((system, registry) =>
            {
                var settings = WorkerSettings.Create(system);
                registry.Register<PortShareWorker>(
                    system.ActorOf(WorkerActor.Props(settings, options.Services.ToList()), WorkerName));
            });
    }
}
