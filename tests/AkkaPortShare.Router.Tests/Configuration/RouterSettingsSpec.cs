using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Router.Configuration;

namespace AkkaPortShare.Router.Tests.Configuration;

/// <summary>The router's settings are checked against its reference.conf, every problem reported at once.</summary>
public sealed class RouterSettingsSpec
{
    private static SettingsException Refused(string hocon) =>
        Assert.Throws<SettingsException>(() => RouterSettings.Create(ConfigurationFactory.ParseString(hocon)));

    [Fact]
    public void RouterSettings_must_read_the_defaults_from_reference_conf()
    {
        var settings = RouterSettings.Create(Config.Empty);

        Assert.Equal(8808, settings.Port);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.ReceiveTimeout);
        Assert.Equal(8 * 1024, settings.TcpMaxSegmentSize);
    }

    [Theory]
    [InlineData("max-pending-conections = 5", "akka-port-share.router.max-pending-conections is not a setting; did you mean max-pending-connections?")]
    [InlineData("handover-mod = relay", "akka-port-share.router.handover-mod is not a setting; did you mean handover-mode?")]
    [InlineData("completely-unrelated-thing = 1", "akka-port-share.router.completely-unrelated-thing is not a setting")]
    [InlineData("port = abc", "akka-port-share.router.port = abc: expected a whole number from 0 to 65535")]
    [InlineData("port = 70000", "akka-port-share.router.port = 70000: expected a whole number from 0 to 65535")]
    [InlineData("receive-timeout = -5s", "akka-port-share.router.receive-timeout = -5s: expected a positive duration")]
    [InlineData("receive-timeout = soon", "akka-port-share.router.receive-timeout = soon: expected a positive duration")]
    [InlineData("handover-mode = teleport", "akka-port-share.router.handover-mode = teleport: expected one of auto, fd, relay")]
    [InlineData("relay-buffer-size = 12q", "akka-port-share.router.relay-buffer-size = 12q: expected a size in bytes")]
    [InlineData("listen-address = \"not-an-ip\"", "akka-port-share.router.listen-address = not-an-ip: expected an IP address")]
    public void RouterSettings_must_name_the_key_the_value_and_what_is_expected(string setting, string problem)
    {
        var error = Refused($"akka-port-share.router {{ {setting} }}");

        Assert.Contains(error.Problems, p => p.StartsWith(problem, StringComparison.Ordinal));
        Assert.Single(error.Problems);
        Assert.Equal(78, SettingsException.ExitCode);
    }

    [Fact]
    public void RouterSettings_must_report_every_problem_at_once()
    {
        var error = Refused("""
            akka-port-share.router {
              port = abc
              max-pending-conections = 5
              receive-timeout = -5s
              handover-mode = teleport
            }
            """);

        Assert.Equal(4, error.Problems.Count);
        Assert.All(error.Problems, p => Assert.Contains(p.Split(' ')[0], error.Message));
    }

    [Fact]
    public void RouterSettings_must_take_settings_given_over_the_defaults()
    {
        var settings = RouterSettings.Create(ConfigurationFactory.ParseString(
            "akka-port-share.router { port = 9000, handover-mode = relay, receive-timeout = 250ms }"));

        Assert.Equal(9000, settings.Port);
        Assert.Equal(HandoverMode.Relay, settings.HandoverMode);
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.ReceiveTimeout);
    }
}
