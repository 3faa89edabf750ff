using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Contracts.Configuration;
using Akka.Hosting;
using AkkaPortShare.Contracts.Hosting;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Worker.Configuration;
using AkkaPortShare.Worker.Listening;
using AkkaPortShare.Worker.Registration;
using AkkaPortShare.Worker.Security;

namespace AkkaPortShare.Worker.Hosting;

/// <summary>ActorRegistry key of the worker actor (ask it <see cref="WorkerProtocol.GetStatus"/>).</summary>
public sealed class PortShareWorker;

/// <summary>What this worker serves, plus code-level overrides (only the ones set become HOCON).</summary>
public sealed class WorkerOptions
{
    internal List<(string Address, Props Service)> Services { get; } = [];
    internal Dictionary<string, EndpointSecurity> Security { get; } = new(StringComparer.Ordinal);
    internal List<Action<Config>> SettingsChecks { get; } = [];
    internal List<string> OwnedPaths { get; } = [];

    /// <summary>The router's actor system address, e.g. <c>akka.tcp://akkaportshare@127.0.0.1:8809</c>.</summary>
    public string? Router { get; set; }

    /// <summary>The router's registration-secret, when it has one (read it from a secret store, not from source code).</summary>
    public string? RegistrationSecret { get; set; }

    /// <summary>
    /// Registers a base address such as <c>net.tcp://+:8808/echo/</c> and the actor that serves its sessions
    /// (it receives <see cref="FramingSession"/> messages). A malformed address is reported with the settings'
    /// problems when the actor system starts, and nothing starts (exit code 78).
    /// </summary>
    public WorkerOptions Serve(string baseAddress, Props service)
    {
        Services.Add((baseAddress, service));
        return this;
    }

    /// <summary>Serves an address with transport security of its own (the WCF layer's NetTcpEndpointOptions.Security).</summary>
    internal WorkerOptions Serve(string baseAddress, Props service, EndpointSecurity security)
    {
        Security[baseAddress] = security;
        if (security.SettingsPath is { } path) OwnedPaths.Add(path);
        return Serve(baseAddress, service);
    }

    /// <summary>Each served address's TLS or Windows credentials (none for plain ones); unreadable certificates are problems.</summary>
    internal IReadOnlyDictionary<string, StreamUpgradeAcceptor> TransportSecurity(Config config, ILoggingAdapter log, List<string> problems) =>
        SecuredEndpoints.Create(config, Services.Select(s => (s.Address, Security.GetValueOrDefault(s.Address) ?? EndpointSecurity.FromConfiguration)),
            log, problems);

    /// <summary>
    /// Adds a check of another module's settings (e.g. the WCF layer's), run against the actor system's
    /// configuration before the worker starts. A <see cref="SettingsException"/> it throws is reported together with
    /// the worker's own problems, and nothing starts (exit code 78).
    /// </summary>
    /// <param name="ownedPath">A block the check reads outside the modules' own (a WCF endpoint's reliable-session
    /// block): when it is under akka-port-share, its name there is not taken for a typo.</param>
    public WorkerOptions CheckSettings(Action<Config> check, string? ownedPath = null)
    {
        SettingsChecks.Add(check);
        if (ownedPath is not null) OwnedPaths.Add(ownedPath);
        return this;
    }

    /// <summary>Every problem of the configuration and the served addresses; empty when the worker can start.</summary>
    internal IReadOnlyList<string> Problems(Config config, out WorkerSettings? settings)
    {
        var problems = new List<string>();
        settings = null;
        try
        {
            settings = WorkerSettings.Create(config);
        }
        catch (SettingsException e)
        {
            problems.AddRange(e.Problems);
        }
        foreach (var check in SettingsChecks)
        {
            try
            {
                check(config);
            }
            catch (SettingsException e)
            {
                problems.AddRange(e.Problems);
            }
        }
        problems.AddRange(SettingsReader.UnknownBlocks(config, OwnedPaths
            .Where(p => p.StartsWith(SettingsReader.Root + ".", StringComparison.Ordinal))
            .Select(p => p[(SettingsReader.Root.Length + 1)..].Split('.')[0])));
        foreach (var (address, _) in Services)
            if (!BaseAddress.TryParse(address, out _, out var error))
                problems.Add($"Serve: {error}");
        foreach (var duplicate in Services.GroupBy(s => s.Address, StringComparer.Ordinal).Where(g => g.Count() > 1))
            problems.Add($"Serve: '{duplicate.Key}' is served {duplicate.Count()} times; expected each address once");
        // Each served contract checks the shared blocks again: report each problem once.
        return problems.Distinct().ToList();
    }

    /// <summary>
    /// Any key of <c>akka-port-share.worker</c>, by its reference.conf name (<c>worker.Settings.Set("max-connections",
    /// 200)</c>); it wins over <see cref="Router"/> and <see cref="RegistrationSecret"/>. Checked like the file's
    /// keys when the actor system starts. Not a property per key: reference.conf stays the one list of keys (see
    /// RouterOptions for why), and WorkerOptionsSpec sets every one of them this way and reads it back.
    /// </summary>
    public HoconOverrides Settings { get; } = new(WorkerSettings.ConfigPath);

    internal string ToHocon()
    {
        var properties = new HoconOverrides(WorkerSettings.ConfigPath);
        if (Router is not null) properties.Set("router", Router);
        if (RegistrationSecret is not null) properties.Set("registration-secret", RegistrationSecret);
        // A later line wins in HOCON: a key set through Settings overrides the property.
        return properties.ToHocon() + Settings.ToHocon();
    }
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
        WorkerSettings? started = null; // the health checks' timeout, once the settings are read
        return builder
            .AddHocon(options.ToHocon(), HoconAddMode.Prepend)
            .AddHocon(WorkerSettings.DefaultConfig(), HoconAddMode.Append)
            .AddHocon(RegistryProtocolConfig.Default(), HoconAddMode.Append)
            .WithActors((system, registry) =>
            {
                OutboundTlsFailureGuard.InstallIfTls(system);
                var problems = options.Problems(system.Settings.Config, out var settings).ToList();
                // Certificates are read now: a worker that cannot serve its secured addresses must not start.
                var tls = problems.Count > 0 ? null
                    : options.TransportSecurity(system.Settings.Config, Logging.GetLogger(system, typeof(WorkerHostingExtensions)), problems);
                if (problems.Count > 0)
                {
                    ProcessExit.InvalidConfiguration(system, typeof(WorkerHostingExtensions), "worker", problems);
                    return; // nothing registered: the process is stopping
                }
                // An unsafe hand-over directory fails the start rather than leaving a worker that serves nothing.
                if (Interop.UnixHandover.IsSupported && !PrepareHandoverDirectory(system, settings!)) return;
                started = settings;
                registry.Register<PortShareWorker>(
                    system.ActorOf(WorkerActor.Props(settings!, options.Services.ToList(), tls: tls), WorkerName));
            })
            .AddWorkerHealthChecks(() => started);
    }

    private static bool PrepareHandoverDirectory(ActorSystem system, WorkerSettings settings)
    {
        try
        {
            HandoverDirectory.Prepare(settings, system.Log);
            return true;
        }
        catch (Interop.UnsafeDirectoryException e)
        {
            Logging.GetLogger(system, typeof(WorkerHostingExtensions)).Error(
                "The worker does not start: {0} ({1}.handover-directory, handover-directory-mode); it exits with code {2} (EX_CANTCREAT)",
                e.Message.TrimEnd('.'), WorkerSettings.ConfigPath, WorkerExit.HandoverDirectory);
            WorkerExit.Run(system, WorkerExit.HandoverDirectory, e.Message);
            return false;
        }
    }
}
