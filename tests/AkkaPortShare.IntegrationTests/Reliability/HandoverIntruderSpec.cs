using System.Text.RegularExpressions;
using AkkaPortShare.TestSupport.Fuzz.Live;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

using static AkkaPortShare.IntegrationTests.Harness.OtherUsers;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>
/// A local process that is not the router connects to a running worker's hand-over socket and sends a forged channel
/// token and a connection of its own: the directory keeps another user out (0700), the worker's check of the peer
/// (SO_PEERCRED against the router AdmissionStarted announced) refuses whoever gets in, with a warning naming the
/// process, and the worker keeps serving the clients the real router routes.
/// </summary>
public sealed class HandoverIntruderSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static bool CanSwitchUser => OperatingSystem.IsLinux() && Environment.UserName == "root" && File.Exists("/usr/bin/setpriv");

    [Fact]
    public async Task A_process_of_the_worker_s_own_user_is_refused_and_its_socket_is_never_served()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        var worker = await host.StartWorkerAsync("real", "h/");
        var path = await HandoverPathAsync(worker);

        // This test process runs as the worker's user (and the router's) but is neither.
        var result = await HandoverIntruder.RunAsync(path, host.Via("h/svc"), TimeSpan.FromSeconds(10), output.WriteLine);

        Assert.Equal(IntrusionResult.ClosedUnserved, result);
        var warning = await worker.WaitForLineAsync($"Closed a hand-over connection from pid {Environment.ProcessId} ", Timeout);
        output.WriteLine(warning);
        Assert.Contains("only the router, pid " + host.Router!.Id, warning);
        await AssertRoutedAsync(host, "h/svc", "real");
        Assert.Equal(0, worker.CountLines("forged"));
    }

    [Fact]
    public async Task Another_user_cannot_reach_a_0700_directory_and_is_refused_by_credentials_where_the_directory_lets_it_in()
    {
        if (!CanSwitchUser)
        {
            output.WriteLine("Needs root and setpriv to run the intruder as user nobody; the same-user intruder is covered above.");
            return;
        }
        var parent = Directory.CreateTempSubdirectory("aps-intruder-").FullName;
        File.SetUnixFileMode(parent, (UnixFileMode)0x1C9); // 0711: others may pass through to the worker's directory
        var open = Path.Combine(parent, "handover");
        try
        {
            using var host = new PortShareHost();
            await host.StartRouterAsync();
            var guarded = await host.StartWorkerAsync("guarded", "g/");
            // 0711: others may pass through the directory (and the socket is 0666), so only the worker's own check is left.
            var config = host.WriteConfig($"akka-port-share.worker {{ handover-directory = \"{open}\", handover-directory-mode = \"0711\" }}");
            var exposed = await host.StartWorkerAsync("exposed", ["--address", host.Address("e/"), "--config", config], "e/");

            using (var denied = StartIntruderAsNobody(await HandoverPathAsync(guarded), host.Via("g/svc")))
            {
                Assert.True(await denied.WaitForExitAsync(Timeout));
                output.WriteLine(denied.Output);
                Assert.Equal(0, denied.ExitCode);
                Assert.Contains("cannot connect", denied.Output);
                Assert.Contains("AccessDenied", denied.Output);
            }

            using var refused = StartIntruderAsNobody(await HandoverPathAsync(exposed), host.Via("e/svc"));
            Assert.True(await refused.WaitForExitAsync(Timeout));
            output.WriteLine(refused.Output);
            Assert.Equal(0, refused.ExitCode);
            Assert.Contains($"intruder: {IntrusionResult.ClosedUnserved}", refused.Output);
            var warning = await exposed.WaitForLineAsync($"Closed a hand-over connection from pid {refused.Id} \\(user {Nobody} \\(nobody\\)\\)", Timeout);
            output.WriteLine(warning);
            await AssertRoutedAsync(host, "e/svc", "exposed");
            await AssertRoutedAsync(host, "g/svc", "guarded");
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [Fact]
    public async Task A_worker_whose_handover_directory_is_a_planted_link_does_not_start_and_says_why()
    {
        if (!OperatingSystem.IsLinux()) return;
        var parent = Directory.CreateTempSubdirectory("aps-planted-").FullName;
        try
        {
            var link = Path.Combine(parent, "handover");
            File.CreateSymbolicLink(link, Directory.CreateDirectory(Path.Combine(parent, "attacker")).FullName);
            using var host = new PortShareHost();
            await host.StartRouterAsync();
            var config = host.WriteConfig($"akka-port-share.worker.handover-directory = \"{link}\"");

            using var worker = host.StartWorkerAs("planted", null, ["--address", host.Address("p/"), "--config", config]);

            var line = await worker.WaitForLineAsync("socket directory", Timeout);
            output.WriteLine(line);
            Assert.Contains($"The socket directory {link} is a symbolic link", line);
            Assert.True(await worker.WaitForExitAsync(Timeout), "the worker kept running without its hand-over socket");
            Assert.Equal(73, worker.ExitCode); // EX_CANTCREAT
            Assert.Contains("(akka-port-share.worker.handover-directory, handover-directory-mode); it exits with code 73", line);
            Assert.DoesNotContain("Unhandled exception", worker.Output);
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(parent, "attacker")));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    private static ManagedProcess StartIntruderAsNobody(string path, string via) =>
        ManagedProcess.StartDllAs("intruder", Nobody, Binaries.Fuzz, "handover-intruder", "--path", path, "--via", via, "--wait-s", "10");

    private static async Task<string> HandoverPathAsync(ManagedProcess worker) =>
        Regex.Match(await worker.WaitForLineAsync("listening on .*hand-over socket /", Timeout), "hand-over socket (\\S+)").Groups[1].Value;

    private static async Task AssertRoutedAsync(PortShareHost host, string path, string identity)
    {
        using var client = await FramingClient.ConnectAsync(host.Port);
        Assert.Null(await client.OpenAsync(host.Via(path)));
        Assert.Equal(identity, await client.CallAsync("whoami"));
    }
}
