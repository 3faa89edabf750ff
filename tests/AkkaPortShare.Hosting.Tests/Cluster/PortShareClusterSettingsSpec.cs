using Akka.Configuration;
using AkkaPortShare.Contracts.Cluster;
using AkkaPortShare.Contracts.Configuration;

namespace AkkaPortShare.Hosting.Tests.Cluster;

/// <summary>
/// <see cref="PortShareClusterSettings"/>: split-brain-resolver.down-all-when-unstable takes on, off or a duration,
/// as Akka's own setting does (on: Akka's rule, 3/4 of stable-after and at least 4 s).
/// </summary>
public sealed class PortShareClusterSettingsSpec
{
    private static PortShareClusterSettings Read(string resolver) =>
        PortShareClusterSettings.Create(ConfigurationFactory.ParseString($"akka-port-share.cluster.split-brain-resolver {{ {resolver} }}"));

    [Theory]
    [InlineData("stable-after = 20s", 15_000)] // the defaults
    [InlineData("stable-after = 40s", 30_000)]
    [InlineData("stable-after = 5s", 4_000)]
    [InlineData("stable-after = 5s, down-all-when-unstable = 15s", 15_000)]
    [InlineData("down-all-when-unstable = off", 0)]
    public void Down_all_when_unstable_is_on_off_or_a_duration(string resolver, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Read(resolver).DownAllWhenUnstable);

    [Theory]
    [InlineData("down-all-when-unstable = 0s")]
    [InlineData("down-all-when-unstable = sometimes")]
    public void Anything_else_is_refused_with_its_name(string resolver)
    {
        var e = Assert.Throws<SettingsException>(() => Read(resolver));
        Assert.Contains("akka-port-share.cluster.split-brain-resolver.down-all-when-unstable", e.Message);
        Assert.Contains("on, off or a positive duration", e.Message);
    }
}
