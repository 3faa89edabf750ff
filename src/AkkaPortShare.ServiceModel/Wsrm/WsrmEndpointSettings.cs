using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.ReliableSessions;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>
/// One endpoint's reliable-session settings, read from <c>akka-port-share.reliable-session</c> (this assembly's
/// reference.conf owns the block and its defaults, WCF's), or from the endpoint's own block falling back to it: the
/// session's own settings (<see cref="Session"/>, run by AkkaPortShare.ReliableSessions), and how the endpoint
/// listens for sessions (pending, concurrent, WS-RM version, shutdown).
/// </summary>
public sealed record WsrmEndpointSettings
{
    public const string ConfigPath = "akka-port-share.reliable-session";

    /// <summary>What each session of the endpoint runs with.</summary>
    public required ReliableSessionSettings Session { get; init; }

    /// <summary>Established sessions waiting for the service to take them; one more is refused (WCF's MaxPendingChannels).</summary>
    public required int MaxPendingChannels { get; init; }

    /// <summary>Sessions the service works on at once; the others wait in the pending queue.</summary>
    public required int MaxConcurrentSessions { get; init; }

    /// <summary>The one version accepted; null when both are (a client may use either).</summary>
    public required WsrmVersion? AcceptedVersion { get; init; }

    /// <summary>How long a shutdown waits for established sessions to end (new ones are refused meanwhile).</summary>
    public required TimeSpan ShutdownDrainTimeout { get; init; }

    private WsrmEndpointSettings() { }

    public bool Accepts(WsrmVersion version) => AcceptedVersion is null || AcceptedVersion == version;

    public static WsrmEndpointSettings Create(ActorSystem system, string? endpointPath = null) =>
        Create(system.Settings.Config, endpointPath);

    /// <summary>
    /// Reads and checks the global block, or <paramref name="endpointPath"/> falling back to it: every problem
    /// (an unknown key, a bad value, one out of WCF's range) at once in a <see cref="SettingsException"/>.
    /// </summary>
    public static WsrmEndpointSettings Create(Config root, string? endpointPath = null)
    {
        var c = Reader(root, endpointPath);
        var version = c.OneOf("reliable-messaging-version", "any", "wsrm-feb2005", "wsrm11");
        var settings = new WsrmEndpointSettings
        {
            ShutdownDrainTimeout = c.Duration("shutdown-drain-timeout", allowZero: true),
            AcceptedVersion = version switch
            {
                "wsrm-feb2005" => WsrmVersion.February2005,
                "wsrm11" => WsrmVersion.V11,
                _ => null,
            },
            Session = ReliableSessionSettings.Read(c),
            // WCF's own ranges (ReliableSessionBindingElement.MaxPendingChannels; ServiceThrottle's sessions).
            MaxPendingChannels = c.Int("max-pending-channels", 1, 16384),
            MaxConcurrentSessions = c.PositiveInt("max-concurrent-sessions"),
        };
        c.ThrowIfInvalid();
        return settings;
    }

    /// <summary>Keys of an endpoint's own block that are no reliable-session setting (each with the nearest one).</summary>
    public static IReadOnlyList<string> UnknownKeys(Config root, string endpointPath) => Reader(root, endpointPath).UnknownKeys();

    private static SettingsReader Reader(Config root, string? endpointPath) => endpointPath is null
        ? new SettingsReader(root, ServiceModelSettings.DefaultConfig(), ConfigPath)
        : new SettingsReader(root, ServiceModelSettings.DefaultConfig(), endpointPath, overrides: ConfigPath);
}
