using AkkaPortShare.TestSupport.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Diagnostics;
using AkkaPortShare.Router.Listening;
using AkkaPortShare.Router.Tests.TestSupport;
using static AkkaPortShare.Router.RouterProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Diagnostics;

/// <summary>
/// The router's counters after known traffic, read in-process with a MeterListener (exact counts): a real listener
/// and real loopback clients; a probe is the registry and answers every via with RouteNotFound.
/// </summary>
public sealed class RouterMetricsSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka-port-share.router { port = 0, listen-address = "127.0.0.1", fault-timeout = 2s }
        """;

    private readonly MeterRecorder _meters;
    private readonly List<Socket> _clients = [];

    public RouterMetricsSpec() : base(Config, "RouterMetricsSpec")
    {
        _meters = new MeterRecorder(RouterMetrics.Get(Sys).Meter); // this system's meter only: other specs run in parallel
    }

    protected override void Dispose(bool disposing)
    {
        _meters.Dispose();
        foreach (var client in _clients) client.DisposeQuietly();
        base.Dispose(disposing);
    }

    private long Total(string key) => _meters.Total(key);

    [Fact]
    public async Task RouterMetrics_must_count_accepted_connections_and_protocol_failures_by_kind()
    {
        var registry = CreateTestProbe("registry");
        var settings = RouterSettings.Create(Sys);
        var listener = Sys.ActorOf(ListenerActor.Props(settings, registry.Ref, Sys.ActorOf(FaultDrainActor.Props(settings))));
        var endPoint = (await listener.Ask<ListenerStatus>(GetListenerStatus.Instance, TimeSpan.FromSeconds(3))).LocalEndPoint;
        await registry.ExpectMsgAsync<ListenerReady>();

        // Three connections for an address nobody registered, two with garbage instead of a preamble.
        for (var i = 0; i < 3; i++)
        {
            var client = await ConnectAsync(endPoint);
            await client.SendAsync(FramingWriter.Preamble(FramingMode.Duplex, $"net.tcp://localhost/none/{i}"), SocketFlags.None);
            var resolve = await registry.ExpectMsgAsync<Resolve>();
            registry.Reply(new RouteNotFound(resolve.Via));
        }
        for (var i = 0; i < 2; i++)
            await (await ConnectAsync(endPoint)).SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n\r\n"), SocketFlags.None);

        await AwaitAssertAsync(() =>
        {
            Assert.Equal(5, Total("akkaportshare.router.connections.accepted"));
            Assert.Equal(3, Total("akkaportshare.router.protocol.failures|error.type=EndpointNotFound"));
            Assert.Equal(2, Total("akkaportshare.router.protocol.failures|error.type=bad_preamble"));
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(50));
        Assert.Equal(0, Total("akkaportshare.router.dispatch.failures"));
        Assert.Equal(0, Total("akkaportshare.router.connections.dispatched"));
    }

    [Fact]
    public void RouterMetrics_must_keep_registrations_active_as_uris_come_and_go()
    {
        var metrics = RouterMetrics.Get(Sys);

        metrics.UriRegistered();
        metrics.UriRegistered();
        metrics.UriRegistered();
        metrics.UrisUnregistered(2);

        Assert.Equal(1, _meters.Gauge("akkaportshare.router.registrations.active"));
        Assert.Equal(3, Total("akkaportshare.router.uris.registered"));
        Assert.Equal(2, Total("akkaportshare.router.uris.unregistered"));
    }

    private async Task<Socket> ConnectAsync(IPEndPoint endPoint)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _clients.Add(client);
        using var cts = new CancellationTokenSource(Loopback.IoTimeout);
        await client.ConnectAsync(endPoint, cts.Token);
        return client;
    }
}
