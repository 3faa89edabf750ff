using System.Net;
using System.Net.Sockets;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.Operations;

/// <summary>
/// A router that cannot do its job ends at once with one line naming the cause and the setting, and a sysexits.h
/// code, instead of running and routing nothing.
/// </summary>
public sealed class FailFastSpec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_router_whose_shared_port_is_taken_exits_69_naming_the_port_and_the_setting()
    {
        using var squatter = Listen(0);
        var port = ((IPEndPoint)squatter.LocalEndPoint!).Port;
        using var host = new PortShareHost();
        var config = host.WriteConfig($$"""
            akka-port-share.router { port = {{port}}, listen-address = "127.0.0.1" }
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{FreePort.Next()}} }
            """);

        using var router = ManagedProcess.StartDll("router", Binaries.Router, "--config", config);

        Assert.True(await router.WaitForExitAsync(Timeout), router.Output);
        Assert.Equal(69, router.ExitCode);
        Assert.Contains($"Cannot listen on 127.0.0.1:{port} (akka-port-share.router.listen-address and port): the address is already in use", router.Output);
        Assert.DoesNotContain("Remoting started", router.Output); // nothing started
    }

    [Fact]
    public async Task A_second_router_on_the_same_remoting_port_exits_69_instead_of_sharing_the_workers()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        var config = host.WriteConfig($$"""
            akka-port-share.router { port = {{FreePort.Next()}}, listen-address = "127.0.0.1" }
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{host.RemotingPort}} }
            """);

        using var second = ManagedProcess.StartDll("second-router", Binaries.Router, "--config", config);

        Assert.True(await second.WaitForExitAsync(Timeout), second.Output);
        Assert.Equal(69, second.ExitCode);
        Assert.Contains($"Cannot listen on 127.0.0.1:{host.RemotingPort} (akka.remote.dot-netty.tcp.hostname and port): the address is already in use", second.Output);
        Assert.False(host.Router!.HasExited);
    }

    [Fact]
    public async Task A_router_without_permission_for_a_low_port_exits_77_and_says_what_grants_it()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || !File.Exists("/usr/bin/setpriv"))
            return; // needs root to start the router as nobody (no CAP_NET_BIND_SERVICE)
        var config = Path.Combine(Path.GetTempPath(), $"aps-lowport-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(config, $$"""
            akka-port-share.router { port = 808, listen-address = "127.0.0.1" }
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{FreePort.Next()}} }
            """);
        try
        {
            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            using var router = ManagedProcess.StartDllAs("router-nobody", 65534, Binaries.Router, "--config", config);

            Assert.True(await router.WaitForExitAsync(Timeout), router.Output);
            Assert.Equal(77, router.ExitCode);
            Assert.Contains("Cannot listen on 127.0.0.1:808 (akka-port-share.router.listen-address and port): permission denied", router.Output);
            Assert.Contains("CAP_NET_BIND_SERVICE", router.Output);
        }
        finally
        {
            File.Delete(config);
        }
    }

    private static Socket Listen(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        socket.Listen();
        return socket;
    }
}
