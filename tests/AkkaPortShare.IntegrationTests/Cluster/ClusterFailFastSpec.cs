using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.Cluster;

/// <summary>
/// akka-port-share.cluster is checked before anything starts, like the router's own block: a cluster without
/// Akka.Remote's TLS (membership is trust between routers) and a misspelt key end the router with 78.
/// </summary>
public sealed class ClusterFailFastSpec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_router_in_a_cluster_without_remoting_TLS_or_with_a_misspelt_key_exits_78_naming_them()
    {
        using var host = new PortShareHost();
        var config = host.WriteConfig($$"""
            akka-port-share.router { port = {{FreePort.Next()}}, listen-address = "127.0.0.1" }
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{FreePort.Next()}} }
            akka-port-share.cluster { enabled = on, seed-node = [] }
            """);

        using var router = ManagedProcess.StartDll("router", Binaries.Router, "--config", config);

        Assert.True(await router.WaitForExitAsync(Timeout), router.Output);
        Assert.Equal(78, router.ExitCode);
        Assert.Contains("akka-port-share.cluster.require-tls: the cluster is enabled but akka.remote.dot-netty.tcp.enable-ssl is off", router.Output);
        Assert.Contains("akka-port-share.cluster.seed-node is not a setting; did you mean seed-nodes?", router.Output);
        Assert.DoesNotContain("Remoting started", router.Output);
    }
}
