using System.Net.Sockets;
using System.Text.Json;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.IntegrationTests.Harness;
using AkkaPortShare.Router.Control;
using Xunit.Abstractions;

using static AkkaPortShare.IntegrationTests.Harness.OtherUsers;

namespace AkkaPortShare.IntegrationTests.Operations;

/// <summary>
/// `akkaportshare status` against a running router: its registrations (address, worker pid, user, mode, connections
/// routed), its counters after known traffic, its health; and nobody but the router's user and root can ask.
/// </summary>
public sealed class StatusSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Status_lists_each_registration_with_its_worker_and_the_routers_exact_counters()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        var worker = await host.StartWorkerAsync("w", "echo/", "other/");

        for (var i = 0; i < 3; i++)
        {
            using var client = await FramingClient.ConnectAsync(host.Port);
            Assert.Null(await client.OpenAsync(host.Via("echo/svc")));
            Assert.Equal("w", await client.CallAsync("whoami"));
        }
        using (var unknown = await FramingClient.ConnectAsync(host.Port))
            Assert.Equal(FramingFaults.EndpointNotFound, await unknown.OpenAsync(host.Via("nobody-serves-this/svc")));

        // Counters are recorded where things happen (the fault as its drain starts): ask until they have arrived,
        // then every one must be exact.
        RouterStatusReport? report = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        do
        {
            var (code, json) = await Command.RunAsync(Timeout, null, "dotnet", Binaries.Router, "status", "--config", host.ConfigFile, "--json");
            Assert.True(code == 0, json);
            report = JsonSerializer.Deserialize<RouterStatusReport>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        } while (report!.Counters.ProtocolFailures < 1 && DateTime.UtcNow < deadline && await Delay());

        var c = report.Counters;
        Assert.Equal(4, c.ConnectionsAccepted);
        Assert.Equal(3, c.ConnectionsDispatched);
        Assert.Equal(1, c.ProtocolFailures); // EndpointNotFound
        Assert.Equal(0, c.DispatchFailures);
        Assert.Equal(0, c.ConnectionsShed);
        Assert.Equal(2, c.RegistrationsActive);
        Assert.Equal(2, c.UrisRegistered);
        Assert.Equal(0, c.UrisUnregistered);
        Assert.True(report.Accepting);
        Assert.Equal(host.Router!.Id, report.ProcessId);
        Assert.Contains(report.Health, h => h.Key == "akkaportshare-router-ready" && h.Value.StartsWith("Healthy"));
        var echo = Assert.Single(report.Registrations, r => r.BaseAddress == host.Address("echo/"));
        Assert.Equal(worker.Id, echo.ProcessId);
        Assert.Equal("fd", echo.HandoverMode);
        Assert.Equal(3, echo.ConnectionsRouted);
        Assert.Equal(0, Assert.Single(report.Registrations, r => r.BaseAddress == host.Address("other/")).ConnectionsRouted);

        var (textCode, text) = await Command.RunAsync(Timeout, null, "dotnet", Binaries.Router, "status", "--config", host.ConfigFile);
        output.WriteLine(text);
        Assert.Equal(0, textCode);
        Assert.Matches($@"{PortShareHost.Regex(host.Address("echo/"))}\s+{worker.Id}\s+\S.*\s+fd\s+3", text);
        Assert.Matches(@"connections\.accepted\s+4", text);
        Assert.Contains("accepting", text);
    }

    [Fact]
    public async Task Status_without_a_running_router_says_where_it_looked_and_exits_69()
    {
        var socket = Path.Combine(Path.GetTempPath(), $"aps-no-router-{Guid.NewGuid():N}.sock");
        var (code, text) = await Command.RunAsync(Timeout, null, "dotnet", Binaries.Router, "status", "--socket", socket);
        Assert.Equal(69, code);
        Assert.Contains($"No router answers on {socket}", text);
    }

    [Fact]
    public async Task Another_user_cannot_use_the_control_socket_even_when_the_files_let_it_connect()
    {
        if (!CanSwitchUser)
        {
            output.WriteLine("Needs root and setpriv to ask as user nobody");
            return;
        }
        var directory = Directory.CreateTempSubdirectory("aps-control-");
        var socket = Path.Combine(directory.FullName, "router.sock");
        using var host = new PortShareHost();
        await host.StartRouterAsync(extraHocon: $"akka-port-share.router.control-socket = \"{socket}\"");
        await host.Router!.WaitForLineAsync("Control socket", Timeout);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory.FullName));

        // As the router made them: nobody cannot even reach the socket.
        Assert.Equal(69, await StatusAsNobody(socket));

        // The files opened up by mistake: the router itself refuses the peer by its uid (SO_PEERCRED).
        File.SetUnixFileMode(directory.FullName, (UnixFileMode)0x1C9); // 0711
        File.SetUnixFileMode(socket, (UnixFileMode)0x1B6);             // 0666
        Assert.Equal(69, await StatusAsNobody(socket));
        var refused = await host.Router.WaitForLineAsync("Control socket: refused pid .* of user 65534", Timeout);
        output.WriteLine(refused);

        // Root still can.
        var (code, text) = await Command.RunAsync(Timeout, null, "dotnet", Binaries.Router, "status", "--socket", socket);
        Assert.True(code == 0, text);
    }

    private async Task<int> StatusAsNobody(string socket)
    {
        using var status = ManagedProcess.StartDllAs("status-as-nobody", Nobody, Binaries.Router, "status", "--socket", socket);
        Assert.True(await status.WaitForExitAsync(Timeout), status.Output);
        output.WriteLine(status.Output);
        Assert.DoesNotContain("Registrations", status.Output);
        return status.ExitCode;
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(200);
        return true;
    }
}
