using System.Net;
using System.Net.Sockets;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>A router whose core actor stops does not live on routing nothing: it says which and exits non-zero.</summary>
public sealed class CoreActorExitSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_router_whose_listener_cannot_start_logs_it_and_exits_with_code_70()
    {
        // Somebody else holds the shared port, so the listener fails in PreStart and is stopped.
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        squatter.Listen();
        var port = ((IPEndPoint)squatter.LocalEndPoint!).Port;
        var config = Path.Combine(Path.GetTempPath(), $"aps-exit-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(config, $$"""
            akka-port-share.router { port = {{port}}, listen-address = "127.0.0.1" }
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{FreePort.Next()}} }
            """);
        try
        {
            using var router = ManagedProcess.StartDll("router", Binaries.Router, "--config", config);
            var line = await router.WaitForLineAsync("core actor .* stopped unexpectedly", TimeSpan.FromSeconds(60));
            output.WriteLine(line);
            Assert.True(await router.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"the router did not exit:\n{router.Output}");
            Assert.Contains("port-share-listener", line);
            Assert.Contains("ERROR", line);
            Assert.Equal(70, router.ExitCode);
        }
        finally
        {
            File.Delete(config);
        }
    }
}
