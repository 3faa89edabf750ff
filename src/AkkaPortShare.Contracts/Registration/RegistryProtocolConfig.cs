using Akka.Configuration;

namespace AkkaPortShare.Contracts.Registration;

/// <summary>
/// The serializer binding of <see cref="RegistryProtocol"/> and the shutdown phase of
/// <see cref="Hosting.OutboundTlsFailureGuard"/>: one file for the router and the workers.
/// </summary>
internal static class RegistryProtocolConfig
{
    public static Config Default() =>
        ConfigurationFactory.FromResource<RegistryProtocolSerializer>("AkkaPortShare.Contracts.remoting.conf");
}
