using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Router.Configuration;

namespace AkkaPortShare.Router.Tests.Configuration;

/// <summary>
/// HoconOverrides (AkkaPortShare.Contracts, which has no test project of its own; the router's and the worker's
/// options both use it): what is set in C# reads back from the HOCON it writes exactly as given.
/// </summary>
public sealed class HoconOverridesSpec
{
    private static Config Parse(HoconOverrides overrides) => ConfigurationFactory.ParseString(overrides.ToHocon());

    [Theory]
    [InlineData("plain")]
    [InlineData("")]
    [InlineData("a $dollar and ${substitution} and ${?optional}")]
    [InlineData("\"double\" and 'single' quotes")]
    [InlineData(@"back\slash \n not a newline \\ two")]
    [InlineData("new\nline, carriage\rreturn, tab\there")]
    [InlineData("# not a comment // nor this")]
    [InlineData("braces { } [ ] , : = and dots a.b.c")]
    [InlineData("include \"other.conf\"")]
    [InlineData("ünïcödé ✓ and \u0001 control")]
    public void HoconOverrides_must_quote_strings_so_they_read_back_unchanged(string value)
    {
        var config = Parse(new HoconOverrides("akka-port-share.router").Set("registration-secret", value));

        Assert.Equal(value, config.GetString("akka-port-share.router.registration-secret"));
    }

    [Fact]
    public void HoconOverrides_must_quote_every_string_of_a_list()
    {
        string[] users = ["app", "a \"b\" \\ c", "$x", "1001"];

        var config = Parse(new HoconOverrides("akka-port-share.router").Set("allowed-worker-users", users));

        Assert.Equal(users, config.GetStringList("akka-port-share.router.allowed-worker-users"));
    }

    [Fact]
    public void HoconOverrides_must_write_numbers_durations_switches_enums_and_sizes_as_the_reader_reads_them()
    {
        var config = Parse(new HoconOverrides("akka-port-share.router")
            .Set("port", -1)
            .Set("max-message-number", long.MaxValue)
            .Set("receive-timeout", TimeSpan.FromMilliseconds(1500))
            .Set("fault-timeout", TimeSpan.FromTicks(15_000)) // 1.5 ms: finer than a millisecond
            .Set("restart-grace", TimeSpan.FromHours(3))
            .Set("ordered", false)
            .Set("handover-mode", HandoverMode.Relay)
            .SetBytes("relay-buffer-size", 65536));

        Assert.Equal(-1, config.GetInt("akka-port-share.router.port"));
        Assert.Equal(long.MaxValue, config.GetLong("akka-port-share.router.max-message-number"));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), config.GetTimeSpan("akka-port-share.router.receive-timeout"));
        Assert.Equal(TimeSpan.FromTicks(15_000), config.GetTimeSpan("akka-port-share.router.fault-timeout"));
        Assert.Equal(TimeSpan.FromHours(3), config.GetTimeSpan("akka-port-share.router.restart-grace"));
        Assert.False(config.GetBoolean("akka-port-share.router.ordered"));
        Assert.Equal("relay", config.GetString("akka-port-share.router.handover-mode"));
        Assert.Equal(65536, config.GetByteSize("akka-port-share.router.relay-buffer-size"));
    }

    [Fact]
    public void HoconOverrides_must_keep_the_last_value_of_a_key_and_write_nothing_when_empty()
    {
        var overrides = new HoconOverrides("akka-port-share.router");
        Assert.Equal("", overrides.ToHocon());

        overrides.Set("port", 1).Set("port", 2);

        Assert.Equal("akka-port-share.router.port = 2\n", overrides.ToHocon());
    }

    [Theory]
    [InlineData("")]
    [InlineData("Port")]
    [InlineData("port = 1\nlisten-address")]
    [InlineData("a..b")]
    [InlineData("\"quoted\"")]
    [InlineData("port ")]
    public void HoconOverrides_must_refuse_a_key_that_is_not_a_plain_dotted_name(string key)
    {
        Assert.Throws<ArgumentException>(() => new HoconOverrides("akka-port-share.router").Set(key, 1));
    }
}
