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

    private WorkerSettings() { }

    public static Config DefaultConfig() =>
        ConfigurationFactory.FromResource<WorkerSettings>("AkkaPortShare.Worker.reference.conf");

    public static WorkerSettings Create(ActorSystem system) => Create(system.Settings.Config);

    public static WorkerSettings Create(Config root)
    {
        var c = root.WithFallback(DefaultConfig()).GetConfig(ConfigPath);
        var directory = c.GetString("handover-directory");
        return new WorkerSettings
        {
            Router = c.GetString("router").TrimEnd('/'),
            HandoverDirectory = string.IsNullOrEmpty(directory) ? Path.Combine(Path.GetTempPath(), "akkaportshare") : directory,
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
        };
    }

    private static long Positive(long? value, string key) => value is > 0
        ? value.Value
        : throw new ArgumentException($"{ConfigPath}.{key} must be positive, not {value}");
}
