using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.ServiceModel.Hosting;

namespace AkkaPortShare.ServiceModel.Tests.Hosting;

/// <summary>
/// ServeContract's settings check: the WCF layer's blocks (service-model, and reliable-session, which it owns whole:
/// the session's keys and the listening ones), and an endpoint's own block, all checked at once before the worker starts.
/// </summary>
public sealed class ServiceModelWorkerExtensionsSpec
{
    private const string Endpoint = "orders.reliable-session";

    private static IReadOnlyList<string> Problems(string hocon, string? endpoint = null)
    {
        try
        {
            ServiceModelWorkerExtensions.CheckSettings(ConfigurationFactory.ParseString(hocon), endpoint);
            return [];
        }
        catch (SettingsException e)
        {
            return e.Problems;
        }
    }

    [Fact]
    public void Session_and_listening_keys_of_the_reliable_session_block_are_known_there_and_in_an_endpoint_block()
    {
        Assert.Empty(Problems("""
            akka-port-share.reliable-session { reliable-messaging-version = wsrm11, max-transfer-window-size = 16 }
            orders.reliable-session { shutdown-drain-timeout = 0s, ordered = off }
            akka-port-share.service-model.operation-timeout = 5s
            """, Endpoint));
    }

    [Fact]
    public void Typos_and_bad_values_in_every_block_are_named_at_once()
    {
        var problems = Problems("""
            akka-port-share.service-model { max-reply-sise = 1k, max-concurrent-calls-per-session = 0 }
            akka-port-share.reliable-session { acknowledgement-intervall = 1s, reliable-messaging-version = wsrm12 }
            orders.reliable-session { max-pending-channels = 0, shutdown-drain-timout = 1s }
            """, Endpoint);

        Assert.Equal(
        [
            "akka-port-share.service-model.max-concurrent-calls-per-session = 0: expected a whole number from 1 to 2147483647",
            "akka-port-share.service-model.max-reply-sise is not a setting; did you mean max-reply-size?",
            "akka-port-share.reliable-session.reliable-messaging-version = wsrm12: expected one of any, wsrm-feb2005, wsrm11",
            "akka-port-share.reliable-session.acknowledgement-intervall is not a setting; did you mean acknowledgement-interval?",
            "orders.reliable-session.shutdown-drain-timout is not a setting; did you mean shutdown-drain-timeout?",
            "orders.reliable-session.max-pending-channels = 0: expected a whole number from 1 to 16384",
        ], problems.Distinct().OrderBy(p => p.StartsWith("orders") ? 1 : 0)); // per block, each block's own order
    }

    [Fact]
    public void A_bad_value_an_endpoint_inherits_is_named_where_it_is_set()
    {
        var problems = Problems("""
            akka-port-share.reliable-session.ordered = maybe
            orders.reliable-session.max-retry-count = 3
            """, Endpoint);

        Assert.Equal(["akka-port-share.reliable-session.ordered = maybe: expected on or off (true or false)"], problems.Distinct());
    }

    [Fact]
    public void An_endpoint_block_that_is_not_in_the_configuration_is_named()
    {
        var problem = Assert.Single(Problems("", "order.reliable-session"));

        Assert.StartsWith("order.reliable-session (an endpoint's reliableSessionPath) is not in the configuration", problem);
    }

    [Fact]
    public void Receive_timeout_and_reader_quotas_are_service_model_settings_read_with_their_defaults()
    {
        Assert.Empty(Problems("akka-port-share.service-model { receive-timeout = 5s, max-string-content-length = 8192, max-depth = 32 }"));
        var settings = ServiceModelSettings.Create(ConfigurationFactory.ParseString("akka-port-share.service-model.max-string-content-length = 0"));
        Assert.Equal(TimeSpan.FromMinutes(10), settings.ReceiveTimeout); // WCF's default, from reference.conf
        Assert.Equal(32, settings.ReaderQuotas.MaxDepth);
        Assert.Equal(int.MaxValue, settings.ReaderQuotas.MaxStringContentLength); // 0: bounded by the message size only
    }

    [Fact]
    public void Reader_quotas_default_to_WCFs_when_HOCON_sets_none()
    {
        var quotas = ServiceModelSettings.Create(ConfigurationFactory.Empty).ReaderQuotas;

        // XmlDictionaryReaderQuotas' own defaults are the ones NetTcpBinding's encoder starts with: 32, 8192, 16384, 4096, 16384.
        var wcf = new System.Xml.XmlDictionaryReaderQuotas();
        Assert.Equal((32, 8192, 16384, 4096, 16384), (quotas.MaxDepth, quotas.MaxStringContentLength, quotas.MaxArrayLength,
            quotas.MaxBytesPerRead, quotas.MaxNameTableCharCount));
        Assert.Equal((wcf.MaxDepth, wcf.MaxStringContentLength, wcf.MaxArrayLength, wcf.MaxBytesPerRead, wcf.MaxNameTableCharCount),
            (quotas.MaxDepth, quotas.MaxStringContentLength, quotas.MaxArrayLength, quotas.MaxBytesPerRead, quotas.MaxNameTableCharCount));
    }

    [Fact]
    public void Endpoint_options_out_of_WCFs_range_are_named_with_WCFs_names_and_the_address()
    {
        var problems = new List<string>();
        try
        {
            ServiceModelWorkerExtensions.CheckSettings(ConfigurationFactory.Empty, null, "net.tcp://+:8808/orders/", new NetTcpEndpointOptions
            {
                ReceiveTimeout = TimeSpan.Zero,
                MaxReceivedMessageSize = 0,
                ReliableSession = new ReliableSessionOptions { MaxTransferWindowSize = 5000, MaxPendingChannels = 0 },
            });
        }
        catch (SettingsException e)
        {
            problems.AddRange(e.Problems);
        }

        Assert.Equal(
        [
            "net.tcp://+:8808/orders/: MaxReceivedMessageSize = 0; expected a positive size",
            "net.tcp://+:8808/orders/: ReceiveTimeout = 00:00:00; expected a positive time",
            "net.tcp://+:8808/orders/: ReliableSession.MaxTransferWindowSize = 5000; expected 1-4096",
            "net.tcp://+:8808/orders/: ReliableSession.MaxPendingChannels = 0; expected 1-16384",
        ], problems);
    }

    [Fact]
    public void Endpoint_options_win_over_HOCON_where_set_and_HOCON_gives_the_rest()
    {
        var config = ConfigurationFactory.ParseString("""
            akka-port-share.service-model { receive-timeout = 1m, operation-timeout = 20s }
            akka-port-share.reliable-session { ordered = off, max-pending-channels = 9 }
            """);
        var binding = EndpointBinding.Resolve(config, null, new NetTcpEndpointOptions
        {
            ReceiveTimeout = TimeSpan.FromSeconds(5),
            MaxReceivedMessageSize = 1L << 40,
            ReliableSession = new ReliableSessionOptions { Ordered = true, Enabled = false },
        });

        Assert.Equal(TimeSpan.FromSeconds(5), binding.Service.ReceiveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(20), binding.Service.OperationTimeout);
        Assert.Equal(int.MaxValue, binding.MaxReceivedMessageSize);
        Assert.True(binding.Reliable.Session.Ordered);
        Assert.Equal(9, binding.Reliable.MaxPendingChannels);
        Assert.False(binding.ReliableEnabled);
        Assert.Null(binding.TextMessageVersion);

        var hoconOnly = EndpointBinding.Resolve(config, null, null);
        Assert.Equal((TimeSpan.FromMinutes(1), false, true), (hoconOnly.Service.ReceiveTimeout, hoconOnly.Reliable.Session.Ordered, hoconOnly.ReliableEnabled));
    }
}
