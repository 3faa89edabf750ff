using Akka.Actor;
using Akka.Configuration;

namespace AkkaPortShare.ReliableSessions;

/// <summary>A reliable session's settings, read from <c>akka-port-share.reliable-session</c> (defaults: WCF's).</summary>
public sealed record ReliableSessionSettings
{
    public const string ConfigPath = "akka-port-share.reliable-session";

    public required int MaxTransferWindowSize { get; init; }
    public required bool FlowControlEnabled { get; init; }
    public required int MaxPendingChannels { get; init; }
    public required int MaxConcurrentSessions { get; init; }
    public required TimeSpan InactivityTimeout { get; init; }
    public required TimeSpan AcknowledgementInterval { get; init; }
    public required int MaxRetryCount { get; init; }
    public required bool Ordered { get; init; }
    public required TimeSpan InitialRoundTrip { get; init; }
    public required long MaxMessageNumber { get; init; }

    private ReliableSessionSettings() { }

    public static Config DefaultConfig() =>
        ConfigurationFactory.FromResource<ReliableSessionSettings>("AkkaPortShare.ReliableSessions.reference.conf");

    public static ReliableSessionSettings Create(ActorSystem system) => Create(system.Settings.Config);

    /// <summary>An endpoint's settings: the block at <paramref name="endpointPath"/>, falling back to the global one.</summary>
    public static ReliableSessionSettings Create(ActorSystem system, string? endpointPath)
    {
        if (endpointPath is null) return Create(system);
        var root = system.Settings.Config.WithFallback(DefaultConfig());
        return FromSection(root.GetConfig(endpointPath).WithFallback(root.GetConfig(ConfigPath)));
    }

    public static ReliableSessionSettings Create(Config root) =>
        FromSection(root.WithFallback(DefaultConfig()).GetConfig(ConfigPath));

    private static ReliableSessionSettings FromSection(Config c)
    {
        var settings = new ReliableSessionSettings
        {
            MaxTransferWindowSize = c.GetInt("max-transfer-window-size"),
            FlowControlEnabled = c.GetBoolean("flow-control-enabled"),
            MaxPendingChannels = c.GetInt("max-pending-channels"),
            MaxConcurrentSessions = c.GetInt("max-concurrent-sessions"),
            InactivityTimeout = c.GetTimeSpan("inactivity-timeout"),
            AcknowledgementInterval = c.GetTimeSpan("acknowledgement-interval"),
            MaxRetryCount = c.GetInt("max-retry-count"),
            Ordered = c.GetBoolean("ordered"),
            InitialRoundTrip = c.GetTimeSpan("initial-round-trip"),
            MaxMessageNumber = c.GetLong("max-message-number"),
        };
        settings.Validate();
        return settings;
    }

    private void Validate()
    {
        var errors = new List<string>();
        // WCF's own ranges (ReliableSessionBindingElement's setters).
        if (MaxTransferWindowSize is < 1 or > 4096) errors.Add("max-transfer-window-size must be 1-4096");
        if (MaxPendingChannels is < 1 or > 16384) errors.Add("max-pending-channels must be 1-16384");
        if (MaxConcurrentSessions < 1) errors.Add("max-concurrent-sessions must be at least 1");
        if (InactivityTimeout <= TimeSpan.Zero) errors.Add("inactivity-timeout must be positive");
        if (AcknowledgementInterval <= TimeSpan.Zero) errors.Add("acknowledgement-interval must be positive");
        if (MaxRetryCount < 1) errors.Add("max-retry-count must be at least 1");
        if (MaxMessageNumber < 1) errors.Add("max-message-number must be at least 1");
        if (errors.Count > 0) throw new ConfigurationException($"Invalid {ConfigPath}: {string.Join("; ", errors)}");
    }
}
