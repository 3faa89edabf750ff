using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.ReliableSessions;

namespace AkkaPortShare.ReliableSessions.Tests.TestSupport;

/// <summary>
/// The settings these specs run sessions with: what the spec's own HOCON sets in
/// <c>akka-port-share.reliable-session</c>, falling back to WCF's ReliableSessionBindingElement defaults, written
/// out here because this library owns no configuration (the product's defaults are in the listening module's
/// reference.conf, AkkaPortShare.ServiceModel's). Read through <see cref="ReliableSessionSettings.Read"/>, as that
/// module reads them.
/// </summary>
internal static class SessionSettings
{
    private const string Wcf = """
        akka-port-share.reliable-session {
          max-transfer-window-size = 8
          flow-control-enabled = on
          inactivity-timeout = 10m
          acknowledgement-interval = 200ms
          max-retry-count = 8
          ordered = on
          initial-round-trip = 2s
          max-message-number = 9223372036854775807
        }
        """;

    public static ReliableSessionSettings From(ActorSystem system)
    {
        var reader = new SettingsReader(system.Settings.Config, ConfigurationFactory.ParseString(Wcf), "akka-port-share.reliable-session");
        var settings = ReliableSessionSettings.Read(reader);
        reader.ThrowIfInvalid();
        return settings;
    }
}
