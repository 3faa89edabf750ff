using Akka.Cluster;
using Akka.Configuration;
using Akka.Hosting;
using AkkaPortShare.Contracts.Cluster;
using AkkaPortShare.Router.Hosting;

namespace AkkaPortShare.Hosting.Tests.Cluster;

/// <summary>
/// <see cref="ClusterHostingExtensions.WithPortShareCluster"/> with the router, in a host run by Akka.Hosting.TestKit:
/// the member has its role, and the settings of cluster.conf win over Akka.Cluster.Hosting's defaults (an order that
/// once let Akka's 500 ms notify interval and role-less replication replace ours without a word).
/// </summary>
public sealed class ClusterHostingSpec(ITestOutputHelper output)
    : Akka.Hosting.TestKit.TestKit("akkaportshare", output)
{
    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider) => builder
        .AddHocon("""
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka-port-share.router { listen-address = "127.0.0.1", control-socket = off }
            """, HoconAddMode.Prepend)
        .WithPortShareRouter(router => router.Port = 0)
        .WithPortShareCluster(PortShareClusterSettings.Create(ConfigurationFactory.ParseString("""
            akka-port-share.cluster {
              enabled = on, require-tls = off, failure-detection.acceptable-heartbeat-pause = 900ms
              split-brain-resolver.down-all-when-unstable = 12s
            }
            """)), PortShareClusterSettings.RouterRole);

    [Fact]
    public void WithPortShareCluster_must_make_a_member_with_its_role_and_settings_that_win_over_Akka_defaults()
    {
        var config = Sys.Settings.Config;
        Assert.Equal(TimeSpan.FromMilliseconds(50), config.GetTimeSpan("akka.cluster.distributed-data.notify-subscribers-interval"));
        Assert.Equal("router", config.GetString("akka.cluster.distributed-data.role"));
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.GetTimeSpan("akka.cluster.unreachable-nodes-reaper-interval"));
        Assert.Equal(TimeSpan.FromMilliseconds(900), config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.GetTimeSpan("akka.cluster.failure-detector.heartbeat-interval"));
        // As Akka's split-brain resolver reads them.
        var resolver = new Akka.Cluster.SBR.SplitBrainResolverSettings(config);
        Assert.Equal(TimeSpan.FromSeconds(20), resolver.DowningStableAfter);
        Assert.Equal(TimeSpan.FromSeconds(12), resolver.DownAllWhenUnstable);
        // No seed nodes: the router forms a cluster of its own.
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        AwaitCondition(() => cluster.State.Members.Any(m => m.Address.Equals(cluster.SelfAddress) && m.Status == MemberStatus.Up),
            TimeSpan.FromSeconds(20));
        Assert.Contains(PortShareClusterSettings.RouterRole, cluster.SelfRoles);
    }
}
