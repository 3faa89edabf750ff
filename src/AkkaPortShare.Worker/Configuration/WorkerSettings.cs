using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Registration;

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

    private WorkerSettings() { }

    public static Config DefaultConfig() =>
        ConfigurationFactory.FromResource<WorkerSettings>("AkkaPortShare.Worker.reference.conf");

    public static WorkerSettings Create(ActorSystem system) => Create(system.Settings.Config);

    public static WorkerSettings Create(Config root)
    {
        var c = root.WithFallback(DefaultConfig()).GetConfig(ConfigPath);
        var directory = c.GetString("handover-directory");
        var directoryMode = ParseDirectoryMode(c.GetString("handover-directory-mode"));
        var maxUnverified = c.GetInt("max-unverified-handover-channels");
        if (maxUnverified < 1)
            throw new ConfigurationException($"{ConfigPath}.max-unverified-handover-channels must be at least 1, not {maxUnverified}.");
        IReadOnlySet<uint> routerUsers = new HashSet<uint>();
        if (OperatingSystem.IsLinux())
        {
            routerUsers = AkkaPortShare.Interop.UnixUsers.ResolveAll(c.GetStringList("allowed-router-users").ToList(), out var unknown);
            if (unknown.Count > 0)
                throw new ConfigurationException(
                    $"{ConfigPath}.allowed-router-users names unknown users: {string.Join(", ", unknown.Select(u => $"\"{u}\""))}.");
        }
        return new WorkerSettings
        {
            Router = c.GetString("router").TrimEnd('/'),
            HandoverDirectory = string.IsNullOrEmpty(directory) ? DefaultHandoverDirectory() : directory,
            HandoverDirectoryMode = directoryMode,
            HandoverVerifyTimeout = c.GetTimeSpan("handover-verify-timeout"),
            MaxUnverifiedHandoverChannels = maxUnverified,
            AllowedRouterUserIds = routerUsers,
            DataHostname = c.GetString("data-endpoint.hostname"),
            DataPort = c.GetInt("data-endpoint.port"),
            TcpMaxSegmentSize = (int)c.GetByteSize("data-endpoint.tcp-max-segment-size")!.Value,
            ReceiveTimeout = c.GetTimeSpan("receive-timeout"),
            ConnectionIdleTimeout = c.GetTimeSpan("connection-idle-timeout"),
            MaxMessageSize = (int)c.GetByteSize("max-message-size")!.Value,
            MaxViaSize = c.GetInt("max-via-size"),
            MaxContentTypeSize = c.GetInt("max-content-type-size"),
            RetryMinBackoff = c.GetTimeSpan("registration-retry.min-backoff"),
            RetryMaxBackoff = c.GetTimeSpan("registration-retry.max-backoff"),
            RegistrationSecret = new SharedSecret(c.GetString("registration-secret") ?? ""),
            MaxUnsentBytes = Positive(c.GetByteSize("max-unsent-bytes"), "max-unsent-bytes"),
            MaxUnsentBytesTotal = Positive(c.GetByteSize("max-unsent-bytes-total"), "max-unsent-bytes-total"),
            MaxConnections = (int)Positive(c.GetInt("max-connections"), "max-connections"),
            MaxMessagesBeforeAnswer = (int)Positive(c.GetInt("max-messages-before-answer"), "max-messages-before-answer"),
        };
    }

    /// <summary>
    /// The hand-over socket's own mode: whoever may enter the directory (its x bit for group or others) may connect
    /// (w on the socket), nobody else. 0700 gives 0600, 0750 and 0710 give 0660.
    /// </summary>
    public UnixFileMode HandoverSocketMode =>
        UnixFileMode.UserRead | UnixFileMode.UserWrite
        | (HandoverDirectoryMode.HasFlag(UnixFileMode.GroupExecute) ? UnixFileMode.GroupRead | UnixFileMode.GroupWrite : 0)
        | (HandoverDirectoryMode.HasFlag(UnixFileMode.OtherExecute) ? UnixFileMode.OtherRead | UnixFileMode.OtherWrite : 0);

    // systemd's RuntimeDirectory= (a private, per-service directory it removes on stop) when set; else one per user
    // under the temp directory, so users never share (or race to create) one directory.
    private static string DefaultHandoverDirectory()
    {
        var runtime = Environment.GetEnvironmentVariable("RUNTIME_DIRECTORY")?.Split(':')[0];
        if (!string.IsNullOrEmpty(runtime)) return runtime;
        var user = OperatingSystem.IsLinux() ? AkkaPortShare.Interop.UnixHandover.CurrentUserId.ToString() : Environment.UserName;
        return Path.Combine(Path.GetTempPath(), $"akkaportshare-{user}");
    }

    // Octal digits, as chmod takes them ("0700"; HOCON may hand an unquoted 0700 over as "700", the same mode).
    private static UnixFileMode ParseDirectoryMode(string? text)
    {
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
        return problem.Length == 0
            ? (UnixFileMode)mode
            : throw new ConfigurationException($"{ConfigPath}.handover-directory-mode = \"{text}\" {problem}.");
    }

    private static long Positive(long? value, string key) => value is > 0
        ? value.Value
        : throw new ArgumentException($"{ConfigPath}.{key} must be positive, not {value}");
}
