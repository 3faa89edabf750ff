using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Configuration;

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
    public static ReliableSessionSettings Create(ActorSystem system, string? endpointPath) =>
        Create(system.Settings.Config, endpointPath);

    /// <summary>
    /// Reads and checks the global block, or <paramref name="endpointPath"/> falling back to it: every problem (an
    /// unknown key, a bad value, one out of WCF's range) at once in a <see cref="SettingsException"/>.
    /// </summary>
    /// <param name="sharedWith">
    /// The reference.conf of every other module with keys in this block (the WCF layer's reliable-messaging-version):
    /// their keys are not unknown. Null: this module's keys only.
    /// </param>
    public static ReliableSessionSettings Create(Config root, string? endpointPath = null, Config? sharedWith = null)
    {
        var reference = sharedWith is null ? DefaultConfig() : DefaultConfig().WithFallback(sharedWith);
        var c = endpointPath is null
            ? new SettingsReader(root, reference, ConfigPath)
            : new SettingsReader(root, reference, endpointPath, overrides: ConfigPath);
        // WCF's own ranges (ReliableSessionBindingElement's setters).
        var settings = new ReliableSessionSettings
        {
            MaxTransferWindowSize = c.Int("max-transfer-window-size", 1, 4096),
            FlowControlEnabled = c.Bool("flow-control-enabled"),
            MaxPendingChannels = c.Int("max-pending-channels", 1, 16384),
            MaxConcurrentSessions = c.PositiveInt("max-concurrent-sessions"),
            InactivityTimeout = c.Duration("inactivity-timeout"),
            AcknowledgementInterval = c.Duration("acknowledgement-interval"),
            MaxRetryCount = c.PositiveInt("max-retry-count"),
            Ordered = c.Bool("ordered"),
            InitialRoundTrip = c.Duration("initial-round-trip"),
            MaxMessageNumber = c.Long("max-message-number", 1),
        };
        c.ThrowIfInvalid();
        return settings;
    }
}
