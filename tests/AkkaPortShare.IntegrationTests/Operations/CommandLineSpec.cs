using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.Operations;

/// <summary>The router's command line: --help and --version answer and exit without starting a router.</summary>
public sealed class CommandLineSpec
{
    [Theory]
    [InlineData("--help", 0, "Usage: akkaportshare")]
    [InlineData("--version", 0, "akkaportshare 0.")]
    [InlineData("--bogus", 64, "Unknown argument: --bogus")]
    [InlineData("--config", 64, "--config needs a file name")]
    public async Task Router_answers_its_command_line_and_exits_without_listening(string argument, int exitCode, string line)
    {
        using var router = ManagedProcess.StartDll("router", Binaries.Router, argument);
        Assert.True(await router.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"the router kept running:\n{router.Output}");
        Assert.Equal(exitCode, router.ExitCode);
        Assert.Contains(line, router.Output);
        Assert.DoesNotContain("Listening on", router.Output);
    }

    [Fact]
    public async Task A_missing_configuration_file_is_named_and_ends_the_router_with_a_usage_error()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.conf");
        using var router = ManagedProcess.StartDll("router", Binaries.Router, "--config", missing);
        Assert.True(await router.WaitForExitAsync(TimeSpan.FromSeconds(30)), router.Output);
        Assert.Equal(64, router.ExitCode);
        Assert.Contains($"Configuration file not found: {missing}", router.Output);
    }
}

/// <summary>A configuration with typos and bad values ends the router with 78 (EX_CONFIG), naming every problem.</summary>
public sealed class ConfigurationCheckSpec
{
    [Fact]
    public async Task A_router_with_typos_and_bad_values_exits_78_and_names_every_problem()
    {
        var file = Path.Combine(Path.GetTempPath(), $"aps-bad-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, """
            akka-port-share.router {
              port = abc
              max-pending-conections = 5
              handover-mod = relay
              receive-timeout = -5s
            }
            """);
        try
        {
            using var router = ManagedProcess.StartDll("router", Binaries.Router, "--config", file);
            Assert.True(await router.WaitForExitAsync(TimeSpan.FromSeconds(30)), router.Output);

            Assert.Equal(78, router.ExitCode);
            Assert.Contains("akka-port-share.router.port = abc: expected a whole number from 0 to 65535", router.Output);
            Assert.Contains("max-pending-conections is not a setting; did you mean max-pending-connections?", router.Output);
            Assert.Contains("handover-mod is not a setting; did you mean handover-mode?", router.Output);
            Assert.Contains("akka-port-share.router.receive-timeout = -5s: expected a positive duration", router.Output);
            Assert.DoesNotContain("   at ", router.Output); // no stack trace
        }
        finally
        {
            File.Delete(file);
        }
    }
}
