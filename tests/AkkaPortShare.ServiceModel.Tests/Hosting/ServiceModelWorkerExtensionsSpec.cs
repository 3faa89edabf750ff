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
}
