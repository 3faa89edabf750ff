using Akka.Configuration;
using AkkaPortShare.Interop;
using AkkaPortShare.Worker.Configuration;

namespace AkkaPortShare.Worker.Tests.Configuration;

/// <summary>The hand-over directory settings: where it goes by default, and which modes are accepted.</summary>
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
        var e = Assert.Throws<ConfigurationException>(() => Create($"akka-port-share.worker.handover-directory-mode = {value}"));

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
}
