using Akka.Actor;
using Akka.Configuration;
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

    public static WsrmEndpointSettings Create(ActorSystem system, string? endpointPath = null)
    {
        var root = system.Settings.Config.WithFallback(ServiceModelSettings.DefaultConfig());
        var section = root.GetConfig(ReliableSessionSettings.ConfigPath);
        if (endpointPath is not null) section = root.GetConfig(endpointPath).WithFallback(section);
        var value = section.GetString("reliable-messaging-version");
        var drain = section.GetTimeSpan("shutdown-drain-timeout");
        if (drain < TimeSpan.Zero)
            throw new ConfigurationException($"shutdown-drain-timeout ({endpointPath ?? ReliableSessionSettings.ConfigPath}) must not be negative");
        return new WsrmEndpointSettings
        {
            ShutdownDrainTimeout = drain,
            AcceptedVersion = value switch
            {
                "any" => null,
                "wsrm-feb2005" => WsrmVersion.February2005,
                "wsrm11" => WsrmVersion.V11,
                _ => throw new ConfigurationException(
                    $"Invalid reliable-messaging-version '{value}' ({endpointPath ?? ReliableSessionSettings.ConfigPath}): any, wsrm-feb2005 or wsrm11"),
            },
        };
    }
}
