using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Actor;
using Akka.Event;
using Akka.Hosting;

namespace AkkaPortShare.Contracts.Cluster;

public static class ClusterHostingExtensions
{
    // Selections cluster members send each other (gossip, joins, heartbeats, DistributedData's replication).
    // The router's untrusted mode drops selections to any other path; each of these is read by its own Akka
    // serializer, which builds only its protocol's types (no type named by the peer), and nothing of them reaches the
    // router's actors. (A worker runs without untrusted mode: the list changes nothing there.)
    /// <summary>EX_UNAVAILABLE: the member was removed from the cluster (downed).</summary>
    private const int RemovedFromCluster = 69;

    internal static readonly string[] ClusterSelectionPaths =
        ["/system/cluster/core/daemon", "/system/cluster/heartbeatReceiver", "/user/ddataReplicator"];

    /// <summary>
    /// Makes this actor system a member of the AkkaPortShare cluster with <paramref name="role"/>
    /// (<see cref="PortShareClusterSettings.RouterRole"/> with <c>WithPortShareRouter</c>,
    /// <see cref="PortShareClusterSettings.WorkerRole"/> with <c>WithPortShareWorker</c>) when
    /// <paramref name="settings"/> say so; otherwise adds nothing.
    /// </summary>
    public static AkkaConfigurationBuilder WithPortShareCluster(this AkkaConfigurationBuilder builder,
        PortShareClusterSettings settings, string role)
    {
        if (!settings.Enabled) return builder;
        if (role is not (PortShareClusterSettings.RouterRole or PortShareClusterSettings.WorkerRole))
            throw new ArgumentException($"expected \"{PortShareClusterSettings.RouterRole}\" or \"{PortShareClusterSettings.WorkerRole}\"", nameof(role));
        if (role == PortShareClusterSettings.WorkerRole && settings.SeedNodes.Count == 0)
            throw new Configuration.SettingsException(PortShareClusterSettings.ConfigPath,
                [$"{PortShareClusterSettings.ConfigPath}.seed-nodes: a worker in the cluster joins through the routers' seed nodes; none is set"]);
        var trusted = string.Join(", ", new[] { Registration.RegistryProtocol.RegistryPath }
            .Concat(ClusterSelectionPaths).Select(p => $"\"{p}\""));
        return builder
            // Appended before WithClustering appends Akka.Cluster's own defaults, so that ours win over them.
            .AddHocon(PortShareClusterSettings.DefaultConfig(), HoconAddMode.Append)
            .WithClustering(new ClusterOptions
            {
                Roles = [role],
                SeedNodes = settings.SeedNodes.ToArray(),
                SplitBrainResolver = new KeepMajorityOption { Role = PortShareClusterSettings.RouterRole },
            })
            .AddHocon($$"""
                akka.remote.trusted-selection-paths = [{{trusted}}]
                akka.remote.watch-failure-detector.acceptable-heartbeat-pause = {{Ms(settings.WorkerAcceptableHeartbeatPause)}}
                # An association that closed (a reset, a link flap) is retried after this gate; while gated, heartbeats
                # are dropped. Akka's 5 s outlasts the failure detector's pause, so any reset of a live worker
                # member's connection made it unreachable, downed and restarted; one heartbeat interval lets the
                # association come back within the pause (a dead member gets a refused connect per interval).
                akka.remote.retry-gate-closed-for = {{Ms(settings.HeartbeatInterval)}}
                akka.cluster.failure-detector {
                  heartbeat-interval = {{Ms(settings.HeartbeatInterval)}}
                  acceptable-heartbeat-pause = {{Ms(settings.AcceptableHeartbeatPause)}}
                }
                akka.cluster.split-brain-resolver {
                  stable-after = {{Ms(settings.StableAfter)}}
                  down-all-when-unstable = {{(settings.DownAllWhenUnstable > TimeSpan.Zero ? Ms(settings.DownAllWhenUnstable) : "off")}}
                }
                """, HoconAddMode.Prepend)
            .AddStartup((system, _) =>
            {
                // Akka.Cluster ignores a join between actor systems of different names (a warning at debug level on
                // the seed): say so and stop, rather than run as a member of nothing.
                var foreign = settings.SeedNodes.Where(s => Akka.Actor.Address.Parse(s).System != system.Name).ToList();
                if (foreign.Count > 0)
                {
                    Hosting.ProcessExit.InvalidConfiguration(system, typeof(ClusterHostingExtensions), role,
                        [$"{PortShareClusterSettings.ConfigPath}.seed-nodes: {string.Join(", ", foreign)} name another actor system than " +
                         $"this one ({system.Name}); every member of the cluster needs the same actor system name (AddAkka(\"{system.Name}\", ...))"]);
                    return;
                }
                var cluster = Akka.Cluster.Cluster.Get(system);
                // A router without seed nodes forms a cluster of its own, which others may join.
                if (settings.SeedNodes.Count == 0) cluster.Join(cluster.SelfAddress);
                // Removed without leaving (downed: by the split-brain resolver on the losing side of a partition, or
                // by the routers when a worker was unreachable): a member cannot join again under the same identity,
                // so the process ends non-zero and its service manager starts it afresh. Leaving on SIGTERM also
                // removes it, with the host's shutdown reason: that is no failure.
                cluster.RegisterOnMemberRemoved(() =>
                {
                    if (CoordinatedShutdown.Get(system).ShutdownReason is not (null or CoordinatedShutdown.ClusterDowningReason)) return;
                    Logging.GetLogger(system, typeof(ClusterHostingExtensions)).Error("This {0} was removed from the cluster " +
                        "(downed: {1}); it exits with code {2} so that its service manager starts it again", role,
                        role == PortShareClusterSettings.RouterRole
                            ? "the split-brain resolver kept the other side of a partition, or the other routers could not reach it"
                            : "the routers could not reach it, and its registrations are gone", RemovedFromCluster);
                    Hosting.ProcessExit.Run(system, RemovedFromCluster, "removed from the cluster");
                });
            });
    }

    private static string Ms(TimeSpan t) => $"{(long)t.TotalMilliseconds}ms";
}
