using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Interop;
using AkkaPortShare.Worker.Configuration;

namespace AkkaPortShare.Worker.Tests.Configuration;

/// <summary>
/// The worker's settings: the hand-over directory (where it goes by default, which modes are accepted), and the
/// check of the whole block (typos named with the nearest key, bad values with what is expected, all at once).
/// </summary>
public sealed class WorkerSettingsSpec
{
    private static WorkerSettings Create(string hocon = "") =>
        WorkerSettings.Create(ConfigurationFactory.ParseString(hocon));

    [Fact]
    public void The_default_directory_is_per_user_under_temp_with_mode_0700_and_sockets_0600()
    {
        if (Environment.GetEnvironmentVariable("RUNTIME_DIRECTORY") is not null) return; // systemd's wins; see below
        var settings = Create();

        Assert.Equal(Path.Combine(Path.GetTempPath(), $"akkaportshare-{UnixHandover.CurrentUserId}"), settings.HandoverDirectory);
        Assert.Equal((UnixFileMode)0x1C0, settings.HandoverDirectoryMode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, settings.HandoverSocketMode);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.HandoverVerifyTimeout);
        Assert.Equal(8, settings.MaxUnverifiedHandoverChannels);
    }

    [Theory]
    [InlineData("\"0750\"", 0x1E8, 0x1B0)] // 0750 -> socket 0660
    [InlineData("0750", 0x1E8, 0x1B0)]     // unquoted: HOCON reads 750, the same octal digits
    [InlineData("\"0711\"", 0x1C9, 0x1B6)] // 0711 -> socket 0666
    public void A_directory_mode_lets_the_same_users_reach_the_socket(string value, int directory, int socket)
    {
        var settings = Create($"akka-port-share.worker.handover-directory-mode = {value}");

        Assert.Equal((UnixFileMode)directory, settings.HandoverDirectoryMode);
        Assert.Equal((UnixFileMode)socket, settings.HandoverSocketMode);
    }

    [Theory]
    [InlineData("\"0770\"", "must not let group or others write")]
    [InlineData("\"0702\"", "must not let group or others write")]
    [InlineData("\"0500\"", "must give the owner rwx")]
    [InlineData("\"1700\"", "may hold permission bits only")]
    [InlineData("\"rwx\"", "is not an octal mode")]
    public void A_directory_mode_others_could_write_to_or_that_is_not_a_mode_is_refused_naming_the_key(string value, string problem)
    {
        var e = Assert.Throws<SettingsException>(() => Create($"akka-port-share.worker.handover-directory-mode = {value}"));

        Assert.Contains("akka-port-share.worker.handover-directory-mode", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Under_systemd_the_default_directory_is_RUNTIME_DIRECTORY()
    {
        var before = Environment.GetEnvironmentVariable("RUNTIME_DIRECTORY");
        Environment.SetEnvironmentVariable("RUNTIME_DIRECTORY", "/run/aps-worker:/run/other");
        try
        {
            Assert.Equal("/run/aps-worker", Create().HandoverDirectory);
            Assert.Equal("/srv/explicit", Create("akka-port-share.worker.handover-directory = \"/srv/explicit\"").HandoverDirectory);
        }
        finally
        {
            Environment.SetEnvironmentVariable("RUNTIME_DIRECTORY", before);
        }
    }

    [Fact]
    public void Fail_fast_defaults_are_a_30s_start_timeout_and_exit_on_refusal()
    {
        var settings = Create();

        Assert.Equal(TimeSpan.FromSeconds(30), settings.StartTimeout);
        Assert.True(settings.ExitOnRefusal);
        Assert.Equal(TimeSpan.Zero, Create("akka-port-share.worker.start-timeout = 0s").StartTimeout); // no limit
    }

    [Fact]
    public void Sharing_is_off_by_default_the_Windows_rule_and_reports_at_most_every_200ms_when_on()
    {
        var settings = Create();

        Assert.False(settings.ShareAddresses);
        Assert.Equal(TimeSpan.FromMilliseconds(200), settings.LoadReportInterval);
        Assert.True(Create("akka-port-share.worker.share-addresses = on").ShareAddresses);
    }

    [Fact]
    public void Typos_are_each_named_with_the_nearest_known_key()
    {
        var e = Assert.Throws<SettingsException>(() => Create("""
            akka-port-share.worker {
              max-conections = 5
              start-timout = 2s
              registration-retry.min-bakoff = 1s
              data-endpoint { prot = 1 }
              completely-unrelated-thing = 1
            }
            """));

        Assert.Equal(
        [
            "akka-port-share.worker.completely-unrelated-thing is not a setting",
            "akka-port-share.worker.data-endpoint.prot is not a setting; did you mean data-endpoint.port?",
            "akka-port-share.worker.max-conections is not a setting; did you mean max-connections?",
            "akka-port-share.worker.registration-retry.min-bakoff is not a setting; did you mean registration-retry.min-backoff?",
            "akka-port-share.worker.start-timout is not a setting; did you mean start-timeout?",
        ], e.Problems);
        Assert.Equal(SettingsException.ExitCode, 78);
    }

    [Fact]
    public void Bad_values_are_all_reported_at_once_with_key_value_and_what_is_expected()
    {
        var e = Assert.Throws<SettingsException>(() => Create("""
            akka-port-share.worker {
              router = "localhost:8809"
              data-endpoint.port = 70000
              receive-timeout = soon
              max-message-size = big
              max-connections = 0
              start-timeout = -1s
              exit-on-refusal = maybe
              registration-retry { min-backoff = 2s, max-backoff = 1s }
            }
            """));

        Assert.Equal(8, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.StartsWith("akka-port-share.worker.router: \"localhost:8809\" is not an actor system address"));
        Assert.Contains("akka-port-share.worker.data-endpoint.port = 70000: expected a whole number from 0 to 65535", e.Problems);
        Assert.Contains("akka-port-share.worker.receive-timeout = soon: expected a positive duration, e.g. 30s or 250ms", e.Problems);
        Assert.Contains(e.Problems, p => p.StartsWith("akka-port-share.worker.max-message-size = big: expected a size in bytes"));
        Assert.Contains("akka-port-share.worker.max-connections = 0: expected a whole number from 1 to 2147483647", e.Problems);
        Assert.Contains("akka-port-share.worker.start-timeout = -1s: expected a duration of zero or more, e.g. 30s or 250ms", e.Problems);
        Assert.Contains("akka-port-share.worker.exit-on-refusal = maybe: expected on or off (true or false)", e.Problems);
        Assert.Contains(e.Problems, p => p.StartsWith("akka-port-share.worker.registration-retry.max-backoff: ") && p.Contains("min-backoff"));
        Assert.StartsWith("Invalid configuration (8 problems in akka-port-share.worker):", e.Message);
    }

    [Fact]
    public void Keys_of_other_modules_blocks_are_not_the_workers_business()
    {
        var settings = Create("""
            akka-port-share.router.port = 9999
            akka-port-share.service-model.operation-timeout = 5s
            akka-port-share.reliable-session.reliable-messaging-version = wsrm11
            """);

        Assert.Equal(1000, settings.MaxConnections);
    }
}
