using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Hosting;
using AkkaPortShare.TestSupport.Clients;
using static AkkaPortShare.Router.RouterProtocol;

namespace AkkaPortShare.Hosting.Tests.Router;

/// <summary>
/// <see cref="RouterHostingExtensions.WithPortShareRouter"/> in a host run by Akka.Hosting.TestKit: the core
/// actors are in the ActorRegistry under their marker types, and the listener answers a real client.
/// </summary>
public sealed class RouterHostingSpec(ITestOutputHelper output)
    : Akka.Hosting.TestKit.TestKit(nameof(RouterHostingSpec), output)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider) => builder
        .AddHocon("""
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka-port-share.router { listen-address = "127.0.0.1", control-socket = off }
            """, HoconAddMode.Prepend)
        .WithPortShareRouter(router => router.Port = 0);

    [Fact]
    public async Task WithPortShareRouter_must_register_its_core_actors_and_answer_a_client_on_the_shared_port()
    {
        var registry = await ActorRegistry.GetAsync<PortShareRegistry>();
        var listener = await ActorRegistry.GetAsync<PortShareListener>();
        Assert.NotEqual(ActorRefs.Nobody, await ActorRegistry.GetAsync<PortShareFaultDrains>());

        Assert.Empty((await registry.Ask<Registrations>(GetRegistrations.Instance, AskTimeout)).Addresses);
        var status = await listener.Ask<ListenerStatus>(GetListenerStatus.Instance, AskTimeout);
        Assert.True(status.Accepting);
        Assert.NotEqual(0, status.LocalEndPoint.Port);

        // Nothing registered: a client's preamble is answered EndpointNotFound, by the router this host runs.
        using var client = await FramingClient.ConnectAsync(status.LocalEndPoint.Port);
        Assert.Equal(FramingFaults.EndpointNotFound, await client.OpenAsync($"net.tcp://localhost:{status.LocalEndPoint.Port}/nobody/"));
    }
}
