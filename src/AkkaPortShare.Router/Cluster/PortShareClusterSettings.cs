using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Router.Configuration;

namespace AkkaPortShare.Router.Cluster;

/// <summary>
/// <c>akka-port-share.cluster</c>: whether routers form one Akka.Cluster and share their registrations. Defaults live
/// in the router's reference.conf only.
/// </summary>
public sealed record PortShareClusterSettings
{
    public const string ConfigPath = "akka-port-share.cluster";

    /// <summary>The role every router has in the cluster; the split-brain resolver counts only these.</summary>
    public const string RouterRole = "router";

    public required bool Enabled { get; init; }
    public required IReadOnlyList<string> SeedNodes { get; init; }
    public required bool RequireTls { get; init; }
    public required TimeSpan StableAfter { get; init; }
    public required bool DownAllWhenUnstable { get; init; }
    public required TimeSpan WriteTimeout { get; init; }
    public required TimeSpan ClaimTimeout { get; init; }
    public required TimeSpan WorkerAcceptableHeartbeatPause { get; init; }

    private PortShareClusterSettings() { }

    public static PortShareClusterSettings Create(ActorSystem system) => Create(system.Settings.Config);

    /// <summary>Reads and checks the block; every problem at once in a <see cref="SettingsException"/> (exit 78).</summary>
    public static PortShareClusterSettings Create(Config root)
    {
        var c = new SettingsReader(root, RouterSettings.DefaultConfig(), ConfigPath);
        var settings = new PortShareClusterSettings
        {
            Enabled = c.Bool("enabled"),
            SeedNodes = c.StringList("seed-nodes").Select(s => s.Trim()).ToList(),
            RequireTls = c.Bool("require-tls"),
            StableAfter = c.Duration("split-brain-resolver.stable-after"),
            DownAllWhenUnstable = c.Bool("split-brain-resolver.down-all-when-unstable"),
            WriteTimeout = c.Duration("write-timeout"),
            ClaimTimeout = c.Duration("claim-timeout"),
            WorkerAcceptableHeartbeatPause = c.Duration("worker-acceptable-heartbeat-pause"),
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
