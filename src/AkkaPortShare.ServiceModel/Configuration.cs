using System.Xml;
using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;

namespace AkkaPortShare.ServiceModel;

/// <summary>Settings of the WCF service layer, read from <c>akka-port-share.service-model</c>.</summary>
public sealed record ServiceModelSettings
{
    public const string ConfigPath = "akka-port-share.service-model";

    public required TimeSpan OperationTimeout { get; init; }
    public required int MaxReplySize { get; init; }
    public required int MaxConcurrentCallsPerSession { get; init; }
    public required int MaxBufferSize { get; init; }
    public required int StreamedReplyBuffer { get; init; }

    /// <summary>A buffered session with no message from its client this long is closed (WCF's ReceiveTimeout).</summary>
    public required TimeSpan ReceiveTimeout { get; init; }

    /// <summary>How long a session whose IsTerminating operation answered waits for the client's close (WCF's CloseTimeout).</summary>
    public required TimeSpan CloseTimeout { get; init; }

    /// <summary>The message encoder's reader quotas (WCF's ReaderQuotas); a key at 0 sets no limit beyond the message size.</summary>
    public required XmlDictionaryReaderQuotas ReaderQuotas { get; init; }

    private ServiceModelSettings() { }

    public static Config DefaultConfig() =>
        ConfigurationFactory.FromResource<ServiceModelSettings>("AkkaPortShare.ServiceModel.reference.conf");

    public static ServiceModelSettings Create(ActorSystem system) => Create(system.Settings.Config);

    /// <summary>
    /// Reads and checks <c>akka-port-share.service-model</c>; every problem (unknown key, bad value) at once in a
    /// <see cref="SettingsException"/>.
    /// </summary>
    public static ServiceModelSettings Create(Config root)
    {
        var c = new SettingsReader(root, DefaultConfig(), ConfigPath);
        var settings = new ServiceModelSettings
        {
            OperationTimeout = c.Duration("operation-timeout"),
            MaxReplySize = c.Bytes("max-reply-size", 1),
            MaxConcurrentCallsPerSession = c.PositiveInt("max-concurrent-calls-per-session"),
            MaxBufferSize = c.Bytes("max-buffer-size", 1024),
            StreamedReplyBuffer = c.Bytes("streamed-reply-buffer", 4096),
            ReceiveTimeout = c.Duration("receive-timeout"),
            CloseTimeout = c.Duration("close-timeout"),
            ReaderQuotas = new XmlDictionaryReaderQuotas
            {
                MaxDepth = Quota(c, "max-depth"),
                MaxStringContentLength = Quota(c, "max-string-content-length"),
                MaxArrayLength = Quota(c, "max-array-length"),
                MaxBytesPerRead = Quota(c, "max-bytes-per-read"),
                MaxNameTableCharCount = Quota(c, "max-name-table-char-count"),
            },
        };
        c.ThrowIfInvalid();
        return settings;
    }

    // 0: no quota of its own (the message size bounds it), as the encoder ran before quotas were settings.
    private static int Quota(SettingsReader c, string key) => c.NonNegativeInt(key) is var v and > 0 ? v : int.MaxValue;
}
