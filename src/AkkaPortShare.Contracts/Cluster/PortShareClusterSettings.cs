using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;

namespace AkkaPortShare.Contracts.Cluster;

/// <summary>
/// <c>akka-port-share.cluster</c>: whether routers and their workers form one Akka.Cluster, in which routers share
/// their registrations. Routers and workers read the same block; its defaults live in cluster.conf only.
/// </summary>
public sealed record PortShareClusterSettings
{
    public const string ConfigPath = "akka-port-share.cluster";

    /// <summary>The role every router has in the cluster; the split-brain resolver counts only these.</summary>
    public const string RouterRole = "router";

    /// <summary>The role of a worker in the cluster: it registers with a router, and holds no registry.</summary>
    public const string WorkerRole = "worker";

    public required bool Enabled { get; init; }
    public required IReadOnlyList<string> SeedNodes { get; init; }
    public required bool RequireTls { get; init; }
    public required TimeSpan StableAfter { get; init; }
    /// <summary>
    /// How long past <see cref="StableAfter"/> the cluster's reachability may keep changing before the split-brain
    /// resolver downs every member; zero: never (off).
    /// </summary>
    public required TimeSpan DownAllWhenUnstable { get; init; }
    public required TimeSpan WriteTimeout { get; init; }
    public required TimeSpan ClaimTimeout { get; init; }
    public required TimeSpan WorkerAcceptableHeartbeatPause { get; init; }
    public required TimeSpan HeartbeatInterval { get; init; }
    public required TimeSpan AcceptableHeartbeatPause { get; init; }

    private PortShareClusterSettings() { }

    /// <summary>The defaults (embedded cluster.conf), with the akka.cluster settings a member of this cluster runs with.</summary>
    public static Config DefaultConfig() =>
        ConfigurationFactory.FromResource<PortShareClusterSettings>("AkkaPortShare.Contracts.cluster.conf");

    public static PortShareClusterSettings Create(ActorSystem system) => Create(system.Settings.Config);

    /// <summary>Reads and checks the block; every problem at once in a <see cref="SettingsException"/> (exit 78).</summary>
    public static PortShareClusterSettings Create(Config root)
    {
        var c = new SettingsReader(root, DefaultConfig(), ConfigPath);
        var stableAfter = c.Duration("split-brain-resolver.stable-after");
        var settings = new PortShareClusterSettings
        {
            Enabled = c.Bool("enabled"),
            SeedNodes = c.StringList("seed-nodes").Select(s => s.Trim()).ToList(),
            RequireTls = c.Bool("require-tls"),
            StableAfter = stableAfter,
            // "on" is Akka's own rule: three quarters of stable-after, at least 4 s.
            DownAllWhenUnstable = c.DurationOrSwitch("split-brain-resolver.down-all-when-unstable",
                TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(4).Ticks, stableAfter.Ticks * 3 / 4))),
            WriteTimeout = c.Duration("write-timeout"),
            ClaimTimeout = c.Duration("claim-timeout"),
            WorkerAcceptableHeartbeatPause = c.Duration("worker-acceptable-heartbeat-pause"),
            HeartbeatInterval = c.Duration("failure-detection.heartbeat-interval"),
            AcceptableHeartbeatPause = c.Duration("failure-detection.acceptable-heartbeat-pause"),
        };
        foreach (var seed in settings.SeedNodes)
            if (!Address.TryParse(seed, out _))
                c.Problem("seed-nodes", $"\"{seed}\" is not an actor system address, e.g. akka.ssl.tcp://akkaportshare@10.0.0.1:8809");
        if (settings.Enabled && settings.RequireTls && !root.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl", false))
            c.Problem("require-tls", "the cluster is enabled but akka.remote.dot-netty.tcp.enable-ssl is off: cluster members " +
                "are trusted to register addresses every router relays to, so they must authenticate each other with " +
                "mutual TLS (or set require-tls = off where nobody else can reach the remoting port)");
        c.ThrowIfInvalid();
        return settings;
    }
}
