using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using Akka.Configuration;
using AkkaPortShare.ServiceModel.Wsrm;

namespace AkkaPortShare.ServiceModel.Hosting;

/// <summary>
/// What one endpoint runs with: the operators' HOCON (worker-wide, and the endpoint's reliable-session block) with the
/// endpoint's <see cref="NetTcpEndpointOptions"/> laid over it, C# winning where both are set. Resolved once, when the
/// endpoint's service actor starts.
/// </summary>
internal sealed record EndpointBinding(
    ServiceModelSettings Service,
    WsrmEndpointSettings Reliable,
    bool ReliableEnabled,
    int? MaxReceivedMessageSize,
    TransferMode? TransferMode,
    MessageVersion? TextMessageVersion)
{
    public static EndpointBinding Resolve(Config config, string? reliableSessionPath, NetTcpEndpointOptions? options)
    {
        var service = ServiceModelSettings.Create(config);
        var reliable = WsrmEndpointSettings.Create(config, reliableSessionPath);
        if (options is null) return new EndpointBinding(service, reliable, true, null, null, null);

        service = service with
        {
            ReceiveTimeout = options.ReceiveTimeout ?? service.ReceiveTimeout,
            CloseTimeout = options.CloseTimeout ?? service.CloseTimeout,
            OperationTimeout = options.SendTimeout ?? service.OperationTimeout,
            MaxBufferSize = options.MaxBufferSize ?? service.MaxBufferSize,
            ReaderQuotas = options.ReaderQuotas is { } quotas ? Copy(quotas) : service.ReaderQuotas,
        };
        if (options.ReliableSession is { } rm)
            reliable = reliable with
            {
                Session = reliable.Session with
                {
                    Ordered = rm.Ordered ?? reliable.Session.Ordered,
                    InactivityTimeout = rm.InactivityTimeout ?? reliable.Session.InactivityTimeout,
                    MaxTransferWindowSize = rm.MaxTransferWindowSize ?? reliable.Session.MaxTransferWindowSize,
                },
                AcceptedVersion = rm.ReliableMessagingVersion ?? reliable.AcceptedVersion,
                MaxPendingChannels = rm.MaxPendingChannels ?? reliable.MaxPendingChannels,
            };
        return new EndpointBinding(service, reliable, options.ReliableSession?.Enabled ?? true,
            options.MaxReceivedMessageSize is { } max ? (int)Math.Min(max, int.MaxValue) : null,
            options.TransferMode, options.MessageEncoding.TextMessageVersion);
    }

    /// <summary>What is out of WCF's range in <paramref name="options"/>, each named as WCF names it.</summary>
    public static IReadOnlyList<string> Problems(string baseAddress, NetTcpEndpointOptions? options)
    {
        if (options is null) return [];
        var problems = new List<string>();
        void Check(bool ok, string name, object? value, string expected)
        {
            if (!ok) problems.Add($"{baseAddress}: {name} = {value}; expected {expected}");
        }
        Check(options.MaxReceivedMessageSize is null or > 0, nameof(options.MaxReceivedMessageSize), options.MaxReceivedMessageSize, "a positive size");
        Check(options.MaxBufferSize is null or > 0, nameof(options.MaxBufferSize), options.MaxBufferSize, "a positive size");
        foreach (var (name, value) in new[]
                 {
                     (nameof(options.ReceiveTimeout), options.ReceiveTimeout), (nameof(options.SendTimeout), options.SendTimeout),
                     (nameof(options.OpenTimeout), options.OpenTimeout), (nameof(options.CloseTimeout), options.CloseTimeout),
                     ("ReliableSession.InactivityTimeout", options.ReliableSession?.InactivityTimeout),
                 })
            Check(value is null || value > TimeSpan.Zero, name, value, "a positive time");
        problems.AddRange(EndpointTransportSecurity.Problems(baseAddress, options));
        if (options.ReliableSession is { } rm)
        {
            Check(rm.MaxTransferWindowSize is null or >= 1 and <= 4096, "ReliableSession.MaxTransferWindowSize", rm.MaxTransferWindowSize, "1-4096");
            Check(rm.MaxPendingChannels is null or >= 1 and <= 16384, "ReliableSession.MaxPendingChannels", rm.MaxPendingChannels, "1-16384");
        }
        return problems;
    }

    private static XmlDictionaryReaderQuotas Copy(XmlDictionaryReaderQuotas quotas)
    {
        var copy = new XmlDictionaryReaderQuotas();
        quotas.CopyTo(copy);
        return copy;
    }
}
