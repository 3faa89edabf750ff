namespace AkkaPortShare.Benchmark.Topology;

public enum RouterMode { Fd, Relay }

/// <summary>
/// One way from the load generator to the same sample worker. <see cref="RequiresRouter"/> is the router's
/// handover-mode the path needs (null: any, the path does not go through the router).
/// </summary>
public sealed record BenchPath(string Name, string Label, RouterMode? RequiresRouter, string FrontLabel)
{
    /// <summary>Straight to the worker's own net.tcp listener: the physical limit.</summary>
    public static readonly BenchPath Direct = new("direct", "direct", null, "");

    /// <summary>Through the router's shared port; the socket itself is passed to the worker (SCM_RIGHTS).</summary>
    public static readonly BenchPath Handover = new("handover", "hand-over", RouterMode.Fd, "router");

    /// <summary>Through the router's shared port in handover-mode = relay: the router copies every byte.</summary>
    public static readonly BenchPath Relay = new("relay", "relay", RouterMode.Relay, "router");

    /// <summary>Through HAProxy in TCP mode, routing on the via in the first bytes (config/haproxy.cfg).</summary>
    public static readonly BenchPath Haproxy = new("haproxy", "HAProxy", null, "haproxy");

    /// <summary>The floor's own direct path: a minimal async server with no actor (Floor.FloorServers), churn only.</summary>
    public static readonly BenchPath FloorDirect = new("floor-direct", "floor: direct", null, "");

    /// <summary>The floor of hand-over: a minimal accept-read-sendmsg router in front of that server, churn only.</summary>
    public static readonly BenchPath FloorHandover = new("floor-handover", "floor: hand-over", null, "floor router");

    public static readonly IReadOnlyList<BenchPath> All = [Direct, Handover, Relay, Haproxy, FloorDirect, FloorHandover];

    public bool IsDirect => ReferenceEquals(this, Direct) || Name == Direct.Name;

    /// <summary>A process stands between the client and the worker (a router or HAProxy, whose CPU is reported).</summary>
    public bool HasFront => FrontLabel.Length > 0;

    /// <summary>One of the floor's paths: not our router or worker, only a yardstick for hand-over's cost.</summary>
    public bool IsFloor => Name.StartsWith("floor-", StringComparison.Ordinal);
}
