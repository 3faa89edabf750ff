using Akka.Actor;
using Akka.Configuration;

namespace AkkaPortShare.ServiceModel;

/// <summary>Settings of the WCF service layer, read from <c>akka-port-share.service-model</c>.</summary>
public sealed record ServiceModelSettings
{
    public const string ConfigPath = "akka-port-share.service-model";

    public required TimeSpan OperationTimeout { get; init; }
    public required int MaxReplySize { get; init; }
    public required int MaxConcurrentCallsPerSession { get; init; }

    private ServiceModelSettings() { }

    public static Config DefaultConfig() =>
        ConfigurationFactory.FromResource<ServiceModelSettings>("AkkaPortShare.ServiceModel.reference.conf");

    public static ServiceModelSettings Create(ActorSystem system)
    {
        var c = system.Settings.Config.WithFallback(DefaultConfig()).GetConfig(ConfigPath);
        var calls = c.GetInt("max-concurrent-calls-per-session");
        return new ServiceModelSettings
        {
            OperationTimeout = c.GetTimeSpan("operation-timeout"),
            MaxReplySize = (int)c.GetByteSize("max-reply-size")!.Value,
            MaxConcurrentCallsPerSession = calls > 0
                ? calls
                : throw new ArgumentException($"{ConfigPath}.max-concurrent-calls-per-session must be positive, not {calls}"),
        };
    }
}
