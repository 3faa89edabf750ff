using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;

namespace AkkaPortShare.Router.Cluster;

public static class ClusterHostingExtensions
{
    // Selections cluster members send each other (gossip, joins, heartbeats, DistributedData's replication).
    // Untrusted mode drops selections to any other path; each of these is read by its own Akka serializer, which
    // builds only its protocol's types (no type named by the peer), and nothing of them reaches the router's actors.
    internal static readonly string[] ClusterSelectionPaths =
        ["/system/cluster/core/daemon", "/system/cluster/heartbeatReceiver", "/user/ddataReplicator"];

    /// <summary>
    /// Makes this router a member of the routers' cluster (role "router") when <paramref name="settings"/> say so;
    /// otherwise adds nothing, and the router runs as a single router. Call it with <c>WithPortShareRouter</c>.
    /// </summary>
    public static AkkaConfigurationBuilder WithPortShareCluster(this AkkaConfigurationBuilder builder,
        PortShareClusterSettings settings)
    {
        if (!settings.Enabled) return builder;
        var trusted = string.Join(", ", new[] { Contracts.Registration.RegistryProtocol.RegistryPath }
            .Concat(ClusterSelectionPaths).Select(p => $"\"{p}\""));
        return builder
            .WithClustering(new ClusterOptions
            {
                Roles = [PortShareClusterSettings.RouterRole],
                SeedNodes = settings.SeedNodes.ToArray(),
                SplitBrainResolver = new KeepMajorityOption { Role = PortShareClusterSettings.RouterRole },
            })
            .AddHocon($$"""
                akka.remote.trusted-selection-paths = [{{trusted}}]
                akka.remote.watch-failure-detector.acceptable-heartbeat-pause = {{(long)settings.WorkerAcceptableHeartbeatPause.TotalMilliseconds}}ms
                akka.cluster.split-brain-resolver {
                  stable-after = {{(long)settings.StableAfter.TotalMilliseconds}}ms
                  down-all-when-unstable = {{(settings.DownAllWhenUnstable ? "on" : "off")}}
                }
                """, HoconAddMode.Prepend);
    }
}
