using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Operations;

/// <summary>
/// The README's install steps as far as a container without systemd allows: the published router runs from its
/// folder with the hocon.conf published beside it, and the unit files in config/systemd pass systemd-analyze.
/// </summary>
public sealed class InstallSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3); // per command

    [Fact]
    public async Task The_published_router_runs_from_its_folder_with_its_hocon_conf()
    {
        var destination = Directory.CreateTempSubdirectory("aps-publish-").FullName;
        try
        {
            // --no-build: publish what the test run already built, in the same configuration.
            var (code, text) = await Command.RunAsync(Limit, null, "dotnet", "publish", Path.Combine(Binaries.RepoRoot, "src", "AkkaPortShare.Host"),
                "--no-build", "-c", Binaries.Configuration, "-o", destination);
            Assert.True(code == 0, text);
            Assert.True(File.Exists(Path.Combine(destination, "hocon.conf")), $"hocon.conf is not published:\n{text}");

            var port = FreePort.Next();
            var config = Path.Combine(destination, "hocon.conf");
            await File.AppendAllTextAsync(config, $"\nakka-port-share.router.port = {port}\nakka.remote.dot-netty.tcp.port = 0\n");
            using var router = ManagedProcess.StartDll("published-router", Path.Combine(destination, "akkaportshare.dll"),
                "--config", config);
            await router.WaitForLineAsync($"Listening on .*:{port}", TimeSpan.FromSeconds(60));
        }
        finally
        {
            Directory.Delete(destination, recursive: true);
        }
    }

    [Theory]
    [InlineData("akkaportshare.service", "/opt/akkaportshare/akkaportshare", "akkaportshare.service")]
    [InlineData("akkaportshare-worker@.service", "/opt/akkaportshare-workers/%i/%i", "akkaportshare-worker@orders.service")]
    [InlineData("akkaportshare.socket", null, "akkaportshare.socket")]
    public async Task The_systemd_unit_passes_systemd_analyze_verify(string unit, string? executable, string instance)
    {
        if (!File.Exists("/usr/bin/systemd-analyze"))
        {
            output.WriteLine("systemd-analyze is not installed (package systemd): the unit files are not checked here.");
            return;
        }
        var folder = Directory.CreateTempSubdirectory("aps-units-").FullName;
        try
        {
            // The executable must exist for verify; everything else is checked as shipped.
            var text = await File.ReadAllTextAsync(Path.Combine(Binaries.RepoRoot, "config", "systemd", unit));
            if (executable is not null) Assert.Contains(executable, text);
            var copy = Path.Combine(folder, instance);
            await File.WriteAllTextAsync(copy, executable is null ? text : text.Replace(executable, "/bin/true"));
            if (unit.EndsWith(".socket", StringComparison.Ordinal)) // verify wants the service the socket starts
                await File.WriteAllTextAsync(Path.Combine(folder, "akkaportshare.service"), "[Service]\nExecStart=/bin/true\n");

            var (code, result) = await Command.RunAsync(Limit, null, "systemd-analyze", "verify", "--man=no", copy);

            Assert.True(code == 0, result);
            // verify exits 0 on unknown keys and bad values and only prints them: any line naming the unit is a defect.
            Assert.DoesNotContain(instance, result);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
