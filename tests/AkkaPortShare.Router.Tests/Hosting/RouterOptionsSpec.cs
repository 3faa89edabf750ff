using AkkaPortShare.TestSupport.Configuration;
using System.Net;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Hosting;

namespace AkkaPortShare.Router.Tests.Hosting;

/// <summary>
/// Every key of <c>akka-port-share.router</c> can be set from C# (<see cref="RouterOptions.Settings"/>) and reads back
/// as set; the table must name every key of reference.conf, so a key added there without a way to set it fails here.
/// </summary>
public sealed class RouterOptionsSpec
{
    private const string Tricky = "/run/a $dir/\"quoted\" \\ back\nnew ${line}.sock";

    // Each key, how to set it to a value that is not its default, and what the settings then hold.
    private static readonly (string Key, Action<HoconOverrides> Set, Func<RouterSettings, object> Read, object Expected)[] Keys =
    [
        ("port", o => o.Set("port", 9123), s => s.Port, 9123),
        ("listen-address", o => o.Set("listen-address", IPAddress.Loopback), s => s.ListenAddress, IPAddress.Loopback),
        ("tcp-max-segment-size", o => o.SetBytes("tcp-max-segment-size", 4096), s => s.TcpMaxSegmentSize, 4096),
        ("defer-accept", o => o.Set("defer-accept", TimeSpan.Zero), s => s.DeferAccept, TimeSpan.Zero),
        ("listen-backlog", o => o.Set("listen-backlog", 1024), s => s.ListenBacklog, 1024),
        ("max-pending-accepts", o => o.Set("max-pending-accepts", 7), s => s.MaxPendingAccepts, 7),
        ("max-pending-connections", o => o.Set("max-pending-connections", 50), s => s.MaxPendingConnections, 50),
        ("max-held-connections", o => o.Set("max-held-connections", 2000), s => s.MaxHeldConnections, 2000),
        ("max-relayed-connections", o => o.Set("max-relayed-connections", 20), s => s.MaxRelayedConnections, 20),
        ("receive-timeout", o => o.Set("receive-timeout", TimeSpan.FromMilliseconds(1500)), s => s.ReceiveTimeout, TimeSpan.FromMilliseconds(1500)),
        ("preamble-wait", o => o.Set("preamble-wait", TimeSpan.FromMilliseconds(20)), s => s.PreambleWait, TimeSpan.FromMilliseconds(20)),
        ("max-via-size", o => o.Set("max-via-size", 4096), s => s.MaxViaSize, 4096),
        ("max-content-type-size", o => o.Set("max-content-type-size", 512), s => s.MaxContentTypeSize, 512),
        ("handover-mode", o => o.Set("handover-mode", HandoverMode.Relay), s => s.HandoverMode, HandoverMode.Relay),
        ("fault-drain-limit", o => o.SetBytes("fault-drain-limit", 1024), s => s.FaultDrainLimit, 1024),
        ("fault-timeout", o => o.Set("fault-timeout", TimeSpan.FromSeconds(2)), s => s.FaultTimeout, TimeSpan.FromSeconds(2)),
        ("max-draining-connections", o => o.Set("max-draining-connections", 10), s => s.MaxDrainingConnections, 10),
        ("handover-timeout", o => o.Set("handover-timeout", TimeSpan.FromSeconds(3)), s => s.HandoverTimeout, TimeSpan.FromSeconds(3)),
        ("handover-queue-limit", o => o.Set("handover-queue-limit", 16), s => s.HandoverQueueLimit, 16),
        ("handover-send-buffer", o => o.SetBytes("handover-send-buffer", 8192), s => s.HandoverSendBuffer, 8192),
        ("handover-channel-wait", o => o.Set("handover-channel-wait", TimeSpan.FromMilliseconds(20)), s => s.HandoverChannelWait, TimeSpan.FromMilliseconds(20)),
        ("relay-buffer-size", o => o.SetBytes("relay-buffer-size", 128 * 1024), s => s.RelayBufferSize, 128 * 1024),
        ("relay-engine", o => o.Set("relay-engine", RelayEngine.Copy), s => s.RelayEngine, RelayEngine.Copy),
        ("relay-threads", o => o.Set("relay-threads", 3), s => s.RelayThreads, 3),
        ("relay-connect-timeout", o => o.Set("relay-connect-timeout", TimeSpan.FromSeconds(2)), s => s.RelayConnectTimeout, TimeSpan.FromSeconds(2)),
        ("restart-grace", o => o.Set("restart-grace", TimeSpan.Zero), s => s.RestartGrace, TimeSpan.Zero),
        ("shared-address-balancing", o => o.Set("shared-address-balancing", "round-robin"), s => s.SharedAddressBalancing,
            SharedAddressBalancing.RoundRobin),
        ("drain-timeout", o => o.Set("drain-timeout", TimeSpan.FromMinutes(1)), s => s.DrainTimeout, TimeSpan.FromMinutes(1)),
        ("control-socket", o => o.Set("control-socket", Tricky), s => s.ControlSocket, Tricky),
        ("control-max-clients", o => o.Set("control-max-clients", 2), s => s.ControlMaxClients, 2),
        ("control-backlog", o => o.Set("control-backlog", 16), s => s.ControlBacklog, 16),
        ("control-command-timeout", o => o.Set("control-command-timeout", TimeSpan.FromMilliseconds(250)), s => s.ControlCommandTimeout, TimeSpan.FromMilliseconds(250)),
        ("control-reply-timeout", o => o.Set("control-reply-timeout", TimeSpan.FromSeconds(7)), s => s.ControlReplyTimeout, TimeSpan.FromSeconds(7)),
        ("health-check-timeout", o => o.Set("health-check-timeout", TimeSpan.FromMilliseconds(500)), s => s.HealthCheckTimeout, TimeSpan.FromMilliseconds(500)),
        ("control-start-timeout", o => o.Set("control-start-timeout", TimeSpan.FromSeconds(3)), s => s.ControlStartTimeout, TimeSpan.FromSeconds(3)),
        ("stop-accepting-timeout", o => o.Set("stop-accepting-timeout", TimeSpan.FromSeconds(1)), s => s.StopAcceptingTimeout, TimeSpan.FromSeconds(1)),
        ("held-poll-interval", o => o.Set("held-poll-interval", TimeSpan.FromMilliseconds(50)), s => s.HeldPollInterval, TimeSpan.FromMilliseconds(50)),
        ("takeover-reply-timeout", o => o.Set("takeover-reply-timeout", TimeSpan.FromSeconds(5)), s => s.TakeoverReplyTimeout, TimeSpan.FromSeconds(5)),
        ("takeover-exit-timeout", o => o.Set("takeover-exit-timeout", TimeSpan.FromMinutes(1)), s => s.TakeoverExitTimeout, TimeSpan.FromMinutes(1)),
        ("allowed-worker-users", o => o.Set("allowed-worker-users", ["0"]), s => string.Join(",", s.AllowedWorkerUsers), "0"),
        ("registration-secret", o => o.Set("registration-secret", Tricky), s => s.RegistrationSecret.IsSet && s.RegistrationSecret.Matches(Tricky), true),
        ("admission-timeout", o => o.Set("admission-timeout", TimeSpan.FromSeconds(4)), s => s.AdmissionTimeout, TimeSpan.FromSeconds(4)),
        ("max-concurrent-admissions", o => o.Set("max-concurrent-admissions", 2), s => s.MaxConcurrentAdmissions, 2),
    ];

    private static RouterSettings Read(RouterOptions options) =>
        RouterSettings.Create(ConfigurationFactory.ParseString(options.ToHocon()).WithFallback(RouterSettings.DefaultConfig()));

    [Fact]
    public void RouterOptions_must_set_every_key_of_reference_conf()
    {
        var reference = ReferenceKeys.Of(RouterSettings.DefaultConfig(), RouterSettings.ConfigPath);

        Assert.Equal(reference.Order(StringComparer.Ordinal), Keys.Select(k => k.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RouterOptions_must_read_back_every_key_set_from_csharp()
    {
        var defaults = RouterSettings.Create(Config.Empty);
        foreach (var (key, set, read, expected) in Keys)
        {
            var options = new RouterOptions();
            set(options.Settings);

            Assert.True(!Equals(read(defaults), expected), $"{key}: the spec must set a value other than the default");
            Assert.True(Equals(read(Read(options)), expected), $"{key}: read back {read(Read(options))}, expected {expected}");
        }
    }

    [Fact]
    public void RouterOptions_must_let_a_key_set_by_name_win_over_its_property()
    {
        var options = new RouterOptions { Port = 9001, HandoverMode = HandoverMode.Fd, ListenAddress = "127.0.0.1" };
        options.Settings.Set("port", 9002);

        var settings = Read(options);

        Assert.Equal(9002, settings.Port);
        Assert.Equal(HandoverMode.Fd, settings.HandoverMode);
        Assert.Equal(IPAddress.Loopback, settings.ListenAddress);
    }

    [Fact]
    public void RouterOptions_must_leave_the_defaults_when_nothing_is_set()
    {
        Assert.Equal("", new RouterOptions().ToHocon());
    }

    [Fact]
    public void RouterOptions_must_report_a_misspelt_key_like_one_in_the_file()
    {
        var options = new RouterOptions();
        options.Settings.Set("max-pending-conections", 5);

        var error = Assert.Throws<SettingsException>(() => Read(options));

        Assert.Equal(["akka-port-share.router.max-pending-conections is not a setting; did you mean max-pending-connections?"], error.Problems);
    }
}
