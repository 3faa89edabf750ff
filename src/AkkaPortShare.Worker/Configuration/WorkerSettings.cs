using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Contracts.Registration;

namespace AkkaPortShare.Worker.Configuration;

/// <summary>The worker's settings, read from <c>akka-port-share.worker</c>. Defaults live in reference.conf only.</summary>
public sealed record WorkerSettings
{
    public const string ConfigPath = "akka-port-share.worker";

    public required string Router { get; init; }
    public required string HandoverDirectory { get; init; }
    public required UnixFileMode HandoverDirectoryMode { get; init; }
    public required TimeSpan HandoverVerifyTimeout { get; init; }
    public required int MaxUnverifiedHandoverChannels { get; init; }

    /// <summary>The uids allowed-router-users stands for (empty on systems without uids).</summary>
    public required IReadOnlySet<uint> AllowedRouterUserIds { get; init; }
    public required string DataHostname { get; init; }
    public required int DataPort { get; init; }
    public required int TcpMaxSegmentSize { get; init; }
    public required int DataListenBacklog { get; init; }
    public required TimeSpan ReceiveTimeout { get; init; }
    public required TimeSpan ConnectionIdleTimeout { get; init; }
    public required int MaxMessageSize { get; init; }
    public required int MaxViaSize { get; init; }
    public required int MaxContentTypeSize { get; init; }
    public required TimeSpan RetryMinBackoff { get; init; }
    public required TimeSpan RetryMaxBackoff { get; init; }
    public required SharedSecret RegistrationSecret { get; init; }
    public required long MaxUnsentBytes { get; init; }
    public required long MaxUnsentBytesTotal { get; init; }
    public required int MaxConnections { get; init; }
    public required int MaxMessagesBeforeAnswer { get; init; }
    public required int ReadBufferSize { get; init; }
    public required int FaultDrainLimit { get; init; }
    public required TimeSpan FaultTimeout { get; init; }

    /// <summary>How long a health check waits for the worker actor's status before it reports it unhealthy.</summary>
    public required TimeSpan HealthCheckTimeout { get; init; }

    /// <summary>How long every address has, from the start, to be registered; zero: no limit.</summary>
    public required TimeSpan StartTimeout { get; init; }

    /// <summary>On shutdown, how long the sessions in progress may take to end (drain-timeout).</summary>
    public required TimeSpan DrainTimeout { get; init; }

    /// <summary>Whether a refused registration (anything but HandoverUnavailable) ends the process.</summary>
    public required bool ExitOnRefusal { get; init; }

    /// <summary>Whether this worker lets other workers (that ask too) hold its addresses, e.g. for a rolling upgrade.</summary>
    public required bool ShareAddresses { get; init; }

    /// <summary>With <see cref="ShareAddresses"/>: how often at most the worker tells the router its connection count.</summary>
    public required TimeSpan LoadReportInterval { get; init; }

    /// <summary>With <see cref="ShareAddresses"/>: how long a relayed reliable session's move to its worker may take at each step.</summary>
    public required TimeSpan SessionForwardTimeout { get; init; }

    private WorkerSettings() { }

    public static Config DefaultConfig() =>
        ConfigurationFactory.FromResource<WorkerSettings>("AkkaPortShare.Worker.reference.conf");

    public static WorkerSettings Create(ActorSystem system) => Create(system.Settings.Config);

    /// <summary>
    /// Reads and checks <c>akka-port-share.worker</c>: every unknown key (with the nearest known one), unparsable
    /// value and out-of-range setting is reported at once in a <see cref="SettingsException"/>; the hosting
    /// extension turns it into exit code 78 (EX_CONFIG).
    /// </summary>
    public static WorkerSettings Create(Config root)
    {
        var c = new SettingsReader(root, DefaultConfig(), ConfigPath);
        var router = (c.String("router") ?? "").TrimEnd('/');
        if (!ActorPath.TryParseAddress(router, out _))
            c.Problem("router", $"\"{router}\" is not an actor system address; expected e.g. akka.tcp://akkaportshare@127.0.0.1:8809");
        var directory = c.String("handover-directory");
        var users = c.StringList("allowed-router-users").Select(u => u.Trim()).ToList();
        IReadOnlySet<uint> routerUsers = new HashSet<uint>();
        if (OperatingSystem.IsLinux())
        {
            routerUsers = AkkaPortShare.Interop.UnixUsers.ResolveAll(users, out var unknown);
            if (unknown.Count > 0)
                c.Problem("allowed-router-users", $"unknown users {string.Join(", ", unknown.Select(u => $"\"{u}\""))}; expected user names or numeric uids");
        }
        var settings = new WorkerSettings
        {
            Router = router,
            HandoverDirectory = string.IsNullOrEmpty(directory) ? AkkaPortShare.Interop.PrivateDirectory.DefaultSocketDirectory() : directory,
            HandoverDirectoryMode = DirectoryMode(c),
            HandoverVerifyTimeout = c.Duration("handover-verify-timeout"),
            MaxUnverifiedHandoverChannels = c.PositiveInt("max-unverified-handover-channels"),
            AllowedRouterUserIds = routerUsers,
            DataHostname = c.String("data-endpoint.hostname"),
            DataPort = c.Int("data-endpoint.port", 0, 65535),
            TcpMaxSegmentSize = c.Bytes("data-endpoint.tcp-max-segment-size", 0, 65535),
            DataListenBacklog = c.PositiveInt("data-endpoint.listen-backlog"),
            ReceiveTimeout = c.Duration("receive-timeout"),
            ConnectionIdleTimeout = c.Duration("connection-idle-timeout"),
            MaxMessageSize = c.Bytes("max-message-size", 1),
            MaxViaSize = c.Int("max-via-size", 16),
            MaxContentTypeSize = c.PositiveInt("max-content-type-size"),
            RetryMinBackoff = c.Duration("registration-retry.min-backoff"),
            RetryMaxBackoff = c.Duration("registration-retry.max-backoff"),
            RegistrationSecret = new SharedSecret(c.String("registration-secret") ?? ""),
            MaxUnsentBytes = c.Bytes("max-unsent-bytes", 1),
            MaxUnsentBytesTotal = c.Bytes("max-unsent-bytes-total", 1),
            MaxConnections = c.PositiveInt("max-connections"),
            MaxMessagesBeforeAnswer = c.PositiveInt("max-messages-before-answer"),
            ReadBufferSize = c.Bytes("read-buffer-size", 1024),
            FaultDrainLimit = c.Bytes("fault-drain-limit"),
            FaultTimeout = c.Duration("fault-timeout"),
            HealthCheckTimeout = c.Duration("health-check-timeout"),
            StartTimeout = c.Duration("start-timeout", allowZero: true),
            DrainTimeout = c.Duration("drain-timeout", allowZero: true),
            ExitOnRefusal = c.Bool("exit-on-refusal"),
            ShareAddresses = c.Bool("share-addresses"),
            LoadReportInterval = c.Duration("load-report-interval"),
            SessionForwardTimeout = c.Duration("session-forward-timeout"),
        };
        if (settings.RetryMaxBackoff < settings.RetryMinBackoff)
            c.Problem("registration-retry.max-backoff", $"{settings.RetryMaxBackoff} must not be below registration-retry.min-backoff ({settings.RetryMinBackoff})");
        c.ThrowIfInvalid();
        return settings;
    }

    /// <summary>
    /// The hand-over socket's own mode: whoever may enter the directory (its x bit for group or others) may connect
    /// (w on the socket), nobody else. 0700 gives 0600, 0750 and 0710 give 0660.
    /// </summary>
    public UnixFileMode HandoverSocketMode =>
        UnixFileMode.UserRead | UnixFileMode.UserWrite
        | (HandoverDirectoryMode.HasFlag(UnixFileMode.GroupExecute) ? UnixFileMode.GroupRead | UnixFileMode.GroupWrite : 0)
        | (HandoverDirectoryMode.HasFlag(UnixFileMode.OtherExecute) ? UnixFileMode.OtherRead | UnixFileMode.OtherWrite : 0);

    // Octal digits, as chmod takes them ("0700"; HOCON may hand an unquoted 0700 over as "700", the same mode).
    private static UnixFileMode DirectoryMode(SettingsReader c)
    {
        const string key = "handover-directory-mode";
        var text = c.String(key);
        var problem = "";
        uint mode = 0;
        if (string.IsNullOrEmpty(text) || text.Length > 4 || text.Any(ch => ch is < '0' or > '7'))
            problem = "is not an octal mode such as 0700";
        else if ((mode = Convert.ToUInt32(text, 8)) > 0x1FF)
            problem = "may hold permission bits only (0700 or 0750)";
        else if ((mode & 0x1C0) != 0x1C0)
            problem = "must give the owner rwx (0700)";
        else if ((mode & 0x12) != 0)
            problem = "must not let group or others write (0700 or 0750)";
        if (problem.Length > 0) c.Problem(key, $"\"{text}\" {problem}");
        return (UnixFileMode)mode;
    }
}
