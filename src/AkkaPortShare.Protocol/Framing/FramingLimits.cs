namespace AkkaPortShare.Protocol.Framing;

/// <summary>
/// Default quotas of the WCF net.tcp stack (TransportDefaults). They are kept in one place so the decoders'
/// defaults and the router's configuration cannot drift apart.
/// </summary>
public static class FramingLimits
{
    /// <summary>Largest accepted via, in UTF-8 bytes (a via of exactly this size is still valid).</summary>
    public const int DefaultMaxViaSize = 2048;

    /// <summary>Largest accepted extensible content type, in UTF-8 bytes.</summary>
    public const int DefaultMaxContentTypeSize = 256;

    /// <summary>Largest fault string a WCF client accepts (FaultSizeQuota); we apply the same cap.</summary>
    public const int MaxFaultSize = 256;
}
