using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Configuration;
using AkkaPortShare.ReliableSessions;

namespace AkkaPortShare.ServiceModel.ReliableMessaging;

/// <summary>
/// The WS-RM side of one endpoint's reliable-session settings: which WS-ReliableMessaging versions it accepts, and
/// how long the worker's shutdown waits for its established sessions. Read
/// like <see cref="ReliableSessionSettings"/>: the endpoint's own block, falling back to
/// <c>akka-port-share.reliable-session</c> (default in this assembly's reference.conf).
/// </summary>
public sealed record WsrmEndpointSettings
{
    /// <summary>The one version accepted; null when both are (a client may use either).</summary>
    public required WsrmVersion? AcceptedVersion { get; init; }

    /// <summary>How long a shutdown waits for established sessions to end (new ones are refused meanwhile).</summary>
    public required TimeSpan ShutdownDrainTimeout { get; init; }

    private WsrmEndpointSettings() { }

    public bool Accepts(WsrmVersion version) => AcceptedVersion is null || AcceptedVersion == version;

    /// <summary>
    /// The known keys of <c>akka-port-share.reliable-session</c> (and of an endpoint's own block): that block is
    /// shared by two modules, so a key is unknown only when neither reference.conf has it.
    /// </summary>
    public static Config ReliableSessionReference() =>
        ServiceModelSettings.DefaultConfig().WithFallback(ReliableSessionSettings.DefaultConfig());

    public static WsrmEndpointSettings Create(ActorSystem system, string? endpointPath = null) =>
        Create(system.Settings.Config, endpointPath);

    /// <summary>
    /// Reads and checks the global block, or <paramref name="endpointPath"/> falling back to it: every problem
    /// (a key neither module knows, a bad value) at once in a <see cref="SettingsException"/>.
    /// </summary>
    public static WsrmEndpointSettings Create(Config root, string? endpointPath = null)
    {
        var c = endpointPath is null
            ? new SettingsReader(root, ReliableSessionReference(), ReliableSessionSettings.ConfigPath)
            : new SettingsReader(root, ReliableSessionReference(), endpointPath, overrides: ReliableSessionSettings.ConfigPath);
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
        };
        c.ThrowIfInvalid();
        return settings;
    }
}
