using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Router.Listening;
using AkkaPortShare.Router.Registration;
using AkkaPortShare.Router.Tests.TestSupport;
using static AkkaPortShare.Router.RouterProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Listening;

/// <summary>
/// The shared port: binds, accepts, starts a ConnectionActor per connection (and per connection a worker hands
/// back) and sheds the oldest unrouted one when max-pending-connections is reached. A probe is the registry;
/// clients are real loopback sockets.
/// </summary>
public sealed class ListenerActorSpec : Akka.TestKit.Xunit2.TestKit
{
    // receive-timeout is long on purpose: only shedding (or routing) may end a silent connection here. defer-accept
    // is off so that a silent client is accepted at once: these specs are about what the router does with connections
    // whose bytes have not come (a client that sends one byte meets the same), except the one spec of defer-accept.
    private const string Config = """
        akka.actor.provider = local
        akka-port-share.router {
          port = 0
          defer-accept = 0s
          listen-address = "127.0.0.1"
          max-pending-accepts = 1
          max-pending-connections = 2
          receive-timeout = 30s
          fault-timeout = 2s
        }
        """;

    private readonly RouterSettings _settings;
    private readonly TestProbe _registry;
    private readonly List<Socket> _clients = [];

    public ListenerActorSpec() : base(Config, "ListenerActorSpec")
    {
        _settings = RouterSettings.Create(Sys);
        _registry = CreateTestProbe("registry");
    }

    protected override void Dispose(bool disposing)
    {
        foreach (var client in _clients) client.DisposeQuietly();
        base.Dispose(disposing);
    }

    /// <param name="hocon">Settings that differ from this spec's, e.g. "akka-port-share.router.max-pending-connections = 3".</param>
    private async Task<(IActorRef Listener, IPEndPoint EndPoint)> StartListenerAsync(string? hocon = null)
    {
        var settings = hocon is null
            ? _settings
            : RouterSettings.Create(Akka.Configuration.ConfigurationFactory.ParseString(hocon).WithFallback(Sys.Settings.Config));
        var listener = Sys.ActorOf(ListenerActor.Props(settings, _registry.Ref, Sys.ActorOf(FaultDrainActor.Props(settings))));
        var status = await StatusAsync(listener);
        await _registry.ExpectMsgAsync<ListenerReady>(); // where the registry sends the connections workers hand back
        return (listener, status.LocalEndPoint);
    }

    private static Task<ListenerStatus> StatusAsync(IActorRef listener) =>
        listener.Ask<ListenerStatus>(GetListenerStatus.Instance, TimeSpan.FromSeconds(3));

    private async Task<Socket> ConnectAsync(IPEndPoint endPoint)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _clients.Add(client);
        using var cts = new CancellationTokenSource(Loopback.IoTimeout);
        await client.ConnectAsync(endPoint, cts.Token);
        return client;
    }

    private Task AwaitPendingAsync(IActorRef listener, int expected) =>
        AwaitAssertAsync(async () => Assert.Equal(expected, (await StatusAsync(listener)).PendingConnections),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));

    [Fact]
    public async Task ListenerActor_must_report_the_bound_end_point_of_port_0()
    {
        var (listener, endPoint) = await StartListenerAsync();

        Assert.Equal(IPAddress.Loopback, endPoint.Address);
        Assert.NotEqual(0, endPoint.Port);
        Assert.Equal(0, (await StatusAsync(listener)).PendingConnections);

        // It really listens there.
        await ConnectAsync(endPoint);
        await AwaitPendingAsync(listener, 1);
    }

    [Fact]
    public async Task ListenerActor_must_shed_the_oldest_unrouted_connection_at_max_pending_connections()
    {
        var (listener, endPoint) = await StartListenerAsync();
        var first = await ConnectAsync(endPoint);
        await AwaitPendingAsync(listener, 1);
        var second = await ConnectAsync(endPoint);
        await AwaitPendingAsync(listener, 2);

        var third = await ConnectAsync(endPoint);

        var read = await Loopback.ReadToEndAsync(first);
        Assert.Empty(read.Bytes); // closed without a fault (EOF, or a reset: its read was pending)
        await AwaitPendingAsync(listener, 2);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        Assert.True(Loopback.IsOpenAndSilent(second), "the second connection must stay open");
        Assert.True(Loopback.IsOpenAndSilent(third), "the newest connection must stay open");
    }

    [Fact]
    public async Task ListenerActor_must_shed_in_arrival_order()
    {
        var (listener, endPoint) = await StartListenerAsync();
        var clients = new List<Socket>();
        for (var i = 0; i < 4; i++)
        {
            clients.Add(await ConnectAsync(endPoint));
            await AwaitPendingAsync(listener, Math.Min(i + 1, _settings.MaxPendingConnections));
        }

        Assert.Empty((await Loopback.ReadToEndAsync(clients[0])).Bytes);
        Assert.Empty((await Loopback.ReadToEndAsync(clients[1])).Bytes);
        Assert.True(Loopback.IsOpenAndSilent(clients[2]));
        Assert.True(Loopback.IsOpenAndSilent(clients[3]));
    }

    [Fact]
    public async Task ListenerActor_must_not_shed_a_connection_whose_preamble_has_arrived_however_slow_the_router_is()
    {
        // The registry (a probe here) does not answer yet: the connection that sent its whole preamble waits for
        // the router, not for its client, so newer connections never push it out; the silent ones go instead.
        var (listener, endPoint) = await StartListenerAsync();
        var silent = await ConnectAsync(endPoint);
        await AwaitPendingAsync(listener, 1);
        var prompt = await ConnectAsync(endPoint);
        await Loopback.SendAsync(prompt, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/svc"));
        var resolve = await _registry.ExpectMsgAsync<Resolve>();

        var newer = new[] { await ConnectAsync(endPoint), await ConnectAsync(endPoint) };

        Assert.Empty((await Loopback.ReadToEndAsync(silent)).Bytes); // the oldest silent one was shed
        await AwaitPendingAsync(listener, 2);
        Assert.True(Loopback.IsOpenAndSilent(prompt), "the connection with a whole preamble must not be shed");
        Assert.All(newer, c => Assert.True(Loopback.IsOpenAndSilent(c)));
        _registry.Reply(new RouteNotFound(resolve.Via));
        Assert.Equal(FramingWriter.Fault(FramingFaults.EndpointNotFound), (await Loopback.ReadToEndAsync(prompt)).Bytes);
    }

    [Fact]
    public async Task ListenerActor_must_shed_from_the_source_address_holding_the_most_unrouted_connections()
    {
        // One address trickling many connections pushes out its own, not an older connection from elsewhere.
        var (listener, endPoint) = await StartListenerAsync("akka-port-share.router.max-pending-connections = 3");
        var attacker = IPAddress.Parse("127.0.0.1");
        var attacks = new List<Socket> { await ConnectFromAsync(attacker, endPoint), await ConnectFromAsync(attacker, endPoint) };
        await AwaitPendingAsync(listener, 2);
        var other = await ConnectFromAsync(IPAddress.Parse("127.0.0.2"), endPoint);
        await AwaitPendingAsync(listener, 3);

        for (var i = 0; i < 3; i++)
        {
            attacks.Add(await ConnectFromAsync(attacker, endPoint));
            Assert.Empty((await Loopback.ReadToEndAsync(attacks[i])).Bytes); // the attacker's oldest, each time
            await AwaitPendingAsync(listener, 3);
        }

        Assert.True(Loopback.IsOpenAndSilent(other), "the other address's connection, though the oldest, must stay");
        Assert.True(Loopback.IsOpenAndSilent(attacks[^1]));
        Assert.True(Loopback.IsOpenAndSilent(attacks[^2]));
    }

    private async Task<Socket> ConnectFromAsync(IPAddress source, IPEndPoint endPoint)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _clients.Add(client);
        client.Bind(new IPEndPoint(source, 0));
        using var cts = new CancellationTokenSource(Loopback.IoTimeout);
        await client.ConnectAsync(endPoint, cts.Token);
        return client;
    }

    [Fact]
    public async Task ListenerActor_must_hand_each_connection_to_a_ConnectionActor_that_asks_the_registry()
    {
        var (listener, endPoint) = await StartListenerAsync();
        var client = await ConnectAsync(endPoint);
        await AwaitPendingAsync(listener, 1);

        await Loopback.SendAsync(client, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/svc"));

        var resolve = await _registry.ExpectMsgAsync<Resolve>();
        Assert.Equal("net.tcp://localhost/svc", resolve.Via);
        Assert.Equal(endPoint, resolve.LocalEndPoint);

        // Answered (here with a fault): it no longer counts as pending.
        _registry.Reply(new RouteNotFound(resolve.Via));
        var read = await Loopback.ReadToEndAsync(client);
        Assert.Equal(FramingWriter.Fault(FramingFaults.EndpointNotFound), read.Bytes);
        await AwaitPendingAsync(listener, 0);
    }

    [Fact]
    public async Task ListenerActor_must_stop_counting_a_connection_the_client_closed()
    {
        var (listener, endPoint) = await StartListenerAsync();
        var client = await ConnectAsync(endPoint);
        await AwaitPendingAsync(listener, 1);

        client.Shutdown(SocketShutdown.Send);

        await AwaitPendingAsync(listener, 0);
    }

    [Fact]
    public async Task ListenerActor_must_release_the_port_when_stopped()
    {
        var (listener, endPoint) = await StartListenerAsync();
        Watch(listener);

        Sys.Stop(listener);
        await ExpectTerminatedAsync(listener);

        using var again = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        again.Bind(endPoint); // would throw AddressAlreadyInUse if the listen socket were still open
    }

    [Fact]
    public async Task ListenerActor_must_leave_a_connection_made_after_StopAccepting_in_the_shared_ports_backlog()
    {
        // A restart's next router takes it from there (socket activation, --takeover): the stopped one's accept
        // thread, still in its poll, must not take it.
        using var port = AkkaPortShare.Router.Hosting.SharedPort.Open(_settings);
        var listener = Sys.ActorOf(ListenerActor.Props(_settings, _registry.Ref, Sys.ActorOf(FaultDrainActor.Props(_settings)), port));
        var endPoint = (await StatusAsync(listener)).LocalEndPoint;
        await _registry.ExpectMsgAsync<ListenerReady>();
        await listener.Ask<Akka.Done>(StopAccepting.Instance, TimeSpan.FromSeconds(3));

        var client = await ConnectAsync(endPoint);
        await Loopback.SendAsync(client, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/after-stop"));

        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(2 * AcceptThread.SliceMilliseconds));
        Assert.Equal(0, (await StatusAsync(listener)).HeldConnections);
        Assert.True(port.Socket.Poll(TimeSpan.FromSeconds(3), SelectMode.SelectRead), "the connection is not in the backlog");
        using var taken = port.Socket.Accept();
        Assert.Equal(client.LocalEndPoint, taken.RemoteEndPoint);
    }

    [Fact]
    public async Task ListenerActor_must_stop_accepting_at_max_held_connections_whatever_their_stage_and_resume_when_one_is_let_go()
    {
        // Three connections whose preambles are in wait for a registry that does not answer: they are no longer
        // pending (nothing to shed) but still held. At max-held-connections the fourth waits in the kernel backlog.
        var (listener, endPoint) = await StartListenerAsync("akka-port-share.router.max-held-connections = 3");
        var held = new List<Socket>();
        var resolves = new List<(Resolve Resolve, IActorRef Connection)>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await ConnectAsync(endPoint));
            await Loopback.SendAsync(held[i], FramingWriter.Preamble(FramingMode.Duplex, $"net.tcp://localhost/svc{i}"));
            resolves.Add((await _registry.ExpectMsgAsync<Resolve>(), _registry.LastSender));
        }

        var waiting = await ConnectAsync(endPoint); // the kernel completes the handshake; the router does not accept
        await Loopback.SendAsync(waiting, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/late"));

        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.Equal(3, (await StatusAsync(listener)).HeldConnections);

        // One is answered (a fault, drained and closed): it is let go, and the waiting client is accepted.
        resolves[0].Connection.Tell(new RouteNotFound(resolves[0].Resolve.Via));
        Assert.Equal(FramingWriter.Fault(FramingFaults.EndpointNotFound), (await Loopback.ReadToEndAsync(held[0])).Bytes);
        held[0].Dispose();
        Assert.Equal("net.tcp://localhost/late", (await _registry.ExpectMsgAsync<Resolve>(TimeSpan.FromSeconds(3))).Via);
        Assert.Equal(3, (await StatusAsync(listener)).HeldConnections);
    }

    // ---- Connections a worker hands back (Reroute, through the registry) ----

    private async Task<(Socket Server, Socket Client)> PairAsync()
    {
        var (server, client) = await Loopback.ConnectedPairAsync();
        _clients.Add(server);
        _clients.Add(client);
        return (server, client);
    }

    [Fact]
    public async Task ListenerActor_must_own_the_connection_actor_of_a_rerouted_connection()
    {
        var (listener, _) = await StartListenerAsync();
        var (server, client) = await PairAsync();
        var preamble = FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/again");

        listener.Tell(new Reroute(server, preamble));

        var resolve = await _registry.ExpectMsgAsync<Resolve>();
        Assert.Equal("net.tcp://localhost/again", resolve.Via);
        Assert.Equal(listener.Path, _registry.LastSender.Path.Parent); // a child of the listener
        var status = await StatusAsync(listener);
        Assert.Equal(0, status.PendingConnections); // its whole preamble is in: it waits for the router only
        Assert.Equal(1, status.HeldConnections);    // but the router holds it again
        _registry.Reply(new RouteNotFound(resolve.Via));
        Assert.Equal(FramingWriter.Fault(FramingFaults.EndpointNotFound), (await Loopback.ReadToEndAsync(client)).Bytes);
    }

    [Fact]
    public async Task ListenerActor_must_count_a_rerouted_connection_with_a_partial_preamble_as_pending_and_shed_it_at_the_bound()
    {
        // Handed back with only part of its next preamble: it waits for its client like any accepted connection,
        // so max-pending-connections counts it and, being the oldest silent one, it is shed first.
        var (listener, endPoint) = await StartListenerAsync();
        var (server, rerouted) = await PairAsync();
        listener.Tell(new Reroute(server, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/again")[..5]));
        await AwaitPendingAsync(listener, 1);
        var second = await ConnectAsync(endPoint);
        await AwaitPendingAsync(listener, 2);

        var third = await ConnectAsync(endPoint);

        Assert.Empty((await Loopback.ReadToEndAsync(rerouted)).Bytes);
        await AwaitPendingAsync(listener, 2);
        Assert.True(Loopback.IsOpenAndSilent(second));
        Assert.True(Loopback.IsOpenAndSilent(third));
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task ListenerActor_must_stop_counting_a_connection_as_pending_once_its_preamble_is_decided_without_being_told()
    {
        // The ledger's stage is the one answer to "still pending": the connection actor sends the listener nothing.
        var (listener, endPoint) = await StartListenerAsync();
        var client = await ConnectAsync(endPoint);
        await AwaitPendingAsync(listener, 1);

        await Loopback.SendAsync(client, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/svc"));
        await _registry.ExpectMsgAsync<Resolve>();

        Assert.Equal(0, (await StatusAsync(listener)).PendingConnections);
        Assert.Equal(1, (await StatusAsync(listener)).HeldConnections);
    }

    [Fact]
    public async Task ListenerActor_must_hand_a_connection_whose_first_bytes_decide_it_to_the_gateway_the_published_routes_name()
    {
        // The registry's published routes name a gateway for /svc: such a connection never asks the registry and
        // never becomes a connection actor; it is held (waiting for its hand-over) until the gateway passes it.
        var gateway = CreateTestProbe("gateway");
        var worker = new RegisteredWorker(new WorkerEndpoint(4242, "localhost", "/tmp/w4242.sock", "127.0.0.1", 9000),
            CreateTestProbe().Ref, gateway.Ref, passSockets: true, channelToken: null, userId: null);
        RouteSnapshots.Get(Sys).Publish(RouteSnapshot.From([(BaseAddress.Parse("net.tcp://localhost/svc"), worker)]));
        var (listener, endPoint) = await StartListenerAsync();

        var client = await ConnectAsync(endPoint);
        var preamble = FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/svc/echo");
        await Loopback.SendAsync(client, preamble);

        var handOver = await gateway.ExpectMsgAsync<HandOver>();
        Assert.Equal("net.tcp://localhost/svc/echo", handOver.Via);
        Assert.Equal(preamble, handOver.AlreadyRead);
        var status = await StatusAsync(listener);
        Assert.Equal((0, 1), (status.PendingConnections, status.HeldConnections));

        // A via the routes do not name still goes to the registry, the one that decides.
        var other = await ConnectAsync(endPoint);
        await Loopback.SendAsync(other, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/other"));
        Assert.Equal("net.tcp://localhost/other", (await _registry.ExpectMsgAsync<Resolve>()).Via);
        await gateway.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        handOver.Socket.Dispose();
    }

    private RegisteredWorker PublishGatewayFor(string baseAddress, TestProbe gateway)
    {
        var worker = new RegisteredWorker(new WorkerEndpoint(4242, "localhost", "/tmp/w4242.sock", "127.0.0.1", 9000),
            CreateTestProbe().Ref, gateway.Ref, passSockets: true, channelToken: null, userId: null);
        RouteSnapshots.Get(Sys).Publish(RouteSnapshot.From([(BaseAddress.Parse(baseAddress), worker)]));
        return worker;
    }

    [Fact]
    public async Task ListenerActor_must_hand_over_a_connection_whose_preamble_arrives_after_its_accept_from_the_preamble_wait()
    {
        // The usual client at concurrency 1: connected, then its preamble, in two writes. It waits for it outside
        // any actor (counted as pending meanwhile) and goes to the gateway without a connection actor.
        var gateway = CreateTestProbe("gateway");
        PublishGatewayFor("net.tcp://localhost/svc", gateway);
        var (listener, endPoint) = await StartListenerAsync("akka-port-share.router.preamble-wait = 20s");
        var client = await ConnectAsync(endPoint);
        await AwaitPendingAsync(listener, 1);

        var preamble = FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/svc/echo");
        await Loopback.SendAsync(client, preamble[..5]);
        await gateway.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        await Loopback.SendAsync(client, preamble[5..]);

        var handOver = await gateway.ExpectMsgAsync<HandOver>();
        Assert.Equal(preamble, handOver.AlreadyRead);
        var status = await StatusAsync(listener);
        Assert.Equal((0, 1), (status.PendingConnections, status.HeldConnections));
        // Told from outside any actor: a connection actor (the listener's child) would be the sender.
        Assert.NotEqual(listener.Path, gateway.LastSender.Path.Parent);
        _registry.ExpectNoMsg(TimeSpan.Zero);
        handOver.Socket.Dispose();
    }

    [Fact]
    public async Task ListenerActor_must_leave_a_silent_connection_in_the_kernel_until_defer_accept_ends()
    {
        var (listener, endPoint) = await StartListenerAsync("akka-port-share.router.defer-accept = 1s");
        var silent = await ConnectAsync(endPoint); // connected on the client's side: the handshake is done
        var gateway = CreateTestProbe("gateway");
        PublishGatewayFor("net.tcp://localhost/svc", gateway);

        await Task.Delay(400);
        Assert.Equal(0, (await StatusAsync(listener)).PendingConnections); // not accepted: nothing of it in the router

        // One that speaks at once is accepted with its preamble and handed over without a connection actor.
        var speaking = await ConnectAsync(endPoint);
        await Loopback.SendAsync(speaking, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/svc"));
        var handOver = await gateway.ExpectMsgAsync<HandOver>();
        Assert.Equal("net.tcp://localhost/svc", handOver.Via);
        Assert.NotEqual(listener.Path, gateway.LastSender.Path.Parent);
        handOver.Socket.Dispose();

        // The deferral ends (the kernel's next SYN-ACK, about a second after the connect): then it is accepted.
        await AwaitAssertAsync(async () => Assert.Equal(1, (await StatusAsync(listener)).PendingConnections),
            TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(50));
        Assert.True(Loopback.IsOpenAndSilent(silent));
    }

    [Fact]
    public async Task ListenerActor_must_pass_a_silent_connection_from_the_preamble_wait_to_a_connection_actor_with_receive_timeout_counted_from_its_accept()
    {
        // preamble-wait 1.5s, receive-timeout 2s: the wait ends 0.75-1.5s after the accept, and the silent client is
        // closed by a connection actor about 2s after its accept (2.75-3.5s if the timeout counted from the wait's end).
        var (listener, endPoint) = await StartListenerAsync("""
            akka-port-share.router { preamble-wait = 1500ms, receive-timeout = 2s }
            """);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var client = await ConnectAsync(endPoint);
        await AwaitPendingAsync(listener, 1);

        Assert.Empty((await Loopback.ReadToEndAsync(client)).Bytes);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(2.7));
        await AwaitPendingAsync(listener, 0);
    }

    [Fact]
    public async Task ListenerActor_must_pass_a_connection_whose_via_the_routes_do_not_name_from_the_preamble_wait_to_the_registry_with_its_bytes()
    {
        var gateway = CreateTestProbe("gateway");
        PublishGatewayFor("net.tcp://localhost/svc", gateway);
        var (_, endPoint) = await StartListenerAsync("akka-port-share.router.preamble-wait = 20s");
        var client = await ConnectAsync(endPoint);
        await Task.Delay(100); // after its accept

        await Loopback.SendAsync(client, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/other"));

        var resolve = await _registry.ExpectMsgAsync<Resolve>(); // a connection actor, with the bytes the wait read
        Assert.Equal("net.tcp://localhost/other", resolve.Via);
        _registry.Reply(new RouteNotFound(resolve.Via));
        Assert.Equal(FramingWriter.Fault(FramingFaults.EndpointNotFound), (await Loopback.ReadToEndAsync(client)).Bytes);
        await gateway.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task ListenerActor_must_give_a_connection_the_published_routes_relay_to_the_splice_engine_without_asking_the_registry()
    {
        // A worker registered for relay (no socket passing): its data endpoint is the test's listener.
        using var workerListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        workerListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        workerListener.Listen(1);
        var dataPort = ((IPEndPoint)workerListener.LocalEndPoint!).Port;
        var worker = new RegisteredWorker(new WorkerEndpoint(4243, "localhost", "/tmp/w4243.sock", "127.0.0.1", dataPort),
            CreateTestProbe().Ref, null, passSockets: false, channelToken: null, userId: null);
        RouteSnapshots.Get(Sys).Publish(RouteSnapshot.From([(BaseAddress.Parse("net.tcp://localhost/svc"), worker)]));
        var (listener, endPoint) = await StartListenerAsync();

        var client = await ConnectAsync(endPoint);
        var preamble = FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/svc/echo");
        await Loopback.SendAsync(client, preamble);

        using var accepting = new CancellationTokenSource(Loopback.IoTimeout);
        using var relayed = await workerListener.AcceptAsync(accepting.Token);
        Assert.Equal(preamble, await Loopback.ReadExactlyAsync(relayed, preamble.Length));
        await Loopback.SendAsync(relayed, "ack"u8.ToArray());
        Assert.Equal("ack"u8.ToArray(), await Loopback.ReadExactlyAsync(client, 3));
        var status = await StatusAsync(listener);
        Assert.Equal((0, 0, 1), (status.PendingConnections, status.HeldConnections, status.RelayedConnections));
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        client.Shutdown(SocketShutdown.Send);
        Assert.Equal(StreamEnd.Eof, (await Loopback.ReadToEndAsync(relayed)).End);
        relayed.Shutdown(SocketShutdown.Send);
        Assert.Equal(StreamEnd.Eof, (await Loopback.ReadToEndAsync(client)).End);
        await AwaitAssertAsync(async () => Assert.Equal(0, (await StatusAsync(listener)).RelayedConnections),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));
    }

    [Fact]
    public async Task ListenerActor_must_answer_ConnectionDispatchFailed_when_the_relayed_worker_refuses_the_connection()
    {
        int closedPort;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            closedPort = ((IPEndPoint)probe.LocalEndPoint!).Port; // bound, never listening: refused
        }
        var worker = new RegisteredWorker(new WorkerEndpoint(4244, "localhost", "/tmp/w4244.sock", "127.0.0.1", closedPort),
            CreateTestProbe().Ref, null, passSockets: false, channelToken: null, userId: null);
        RouteSnapshots.Get(Sys).Publish(RouteSnapshot.From([(BaseAddress.Parse("net.tcp://localhost/svc"), worker)]));
        var (listener, endPoint) = await StartListenerAsync();

        var client = await ConnectAsync(endPoint);
        await Loopback.SendAsync(client, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/svc/echo"));

        var read = await Loopback.ReadToEndAsync(client);
        Assert.Equal(Convert.ToHexString(FramingWriter.Fault(FramingFaults.ConnectionDispatchFailed)), Convert.ToHexString(read.Bytes));
        Assert.Equal(StreamEnd.Eof, read.End);
        await AwaitAssertAsync(async () =>
        {
            var status = await StatusAsync(listener);
            Assert.Equal((0, 0), (status.HeldConnections, status.RelayedConnections));
        }, TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));
    }
}
