using AkkaPortShare.Contracts.Configuration;

namespace AkkaPortShare.ReliableSessions;

/// <summary>
/// What one reliable session needs (WCF's ReliableSessionBindingElement, less what only a listener uses). This
/// library owns no configuration: the module that listens for sessions owns the block they are read from, and its
/// reference.conf the defaults (AkkaPortShare.ServiceModel: <c>akka-port-share.reliable-session</c>, WCF's values).
/// </summary>
public sealed record ReliableSessionSettings
{
    public required int MaxTransferWindowSize { get; init; }
    public required bool FlowControlEnabled { get; init; }
    public required TimeSpan InactivityTimeout { get; init; }
    public required TimeSpan AcknowledgementInterval { get; init; }
    public required int MaxRetryCount { get; init; }
    public required bool Ordered { get; init; }
    public required TimeSpan InitialRoundTrip { get; init; }
    public required long MaxMessageNumber { get; init; }

    private ReliableSessionSettings() { }

    /// <summary>
    /// Reads the session's keys from the owner's block with WCF's own ranges (ReliableSessionBindingElement's
    /// setters); problems are collected in <paramref name="c"/>, whose owner calls ThrowIfInvalid once for the block.
    /// </summary>
    public static ReliableSessionSettings Read(SettingsReader c) => new()
    {
        MaxTransferWindowSize = c.Int("max-transfer-window-size", 1, 4096),
        FlowControlEnabled = c.Bool("flow-control-enabled"),
        InactivityTimeout = c.Duration("inactivity-timeout"),
        AcknowledgementInterval = c.Duration("acknowledgement-interval"),
        MaxRetryCount = c.PositiveInt("max-retry-count"),
        Ordered = c.Bool("ordered"),
        InitialRoundTrip = c.Duration("initial-round-trip"),
        MaxMessageNumber = c.Long("max-message-number", 1),
    };
}
