using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Tests.TestSupport;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Connections;

/// <summary>
/// One accepted connection from its first byte to its hand-over (or fault, or close). A real loopback socket pair
/// stands in for the accepted connection; probes stand in for the registry, the gateway and the listener (parent).
/// Time is the test scheduler's: receive-timeout passes when a test advances it.
/// </summary>
public sealed class ConnectionActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka.loglevel = INFO
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        akka-port-share.router {
          receive-timeout = 3s
          max-via-size = 64
          fault-timeout = 2s
        }
        """;

    private const string Via = "net.tcp://localhost:8808/svc/Echo";

    private readonly RouterSettings _settings;
    private readonly RouterSettings _shortTimeout; // for the tests about receive-timeout only
    private readonly TestProbe _registry;
    private readonly TestProbe _parent;
    private readonly List<Socket> _sockets = [];
    private readonly HeldConnections _held;

    public ConnectionActorSpec() : base(Config, "ConnectionActorSpec")
    {
        _settings = RouterSettings.Create(Sys);
        _shortTimeout = RouterSettings.Create(Akka.Configuration.ConfigurationFactory
            .ParseString("akka-port-share.router.receive-timeout = 500ms").WithFallback(Sys.Settings.Config));
        _registry = CreateTestProbe("registry");
        _parent = CreateTestProbe("listener");
        _held = HeldConnections.Get(Sys);
    }

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    protected override void Dispose(bool disposing)
    {
        foreach (var socket in _sockets) socket.DisposeQuietly();
        base.Dispose(disposing);
    }

    private static byte[] DuplexPreamble(string via = Via) => FramingWriter.Preamble(FramingMode.Duplex, via);

    private async Task<(Socket Server, Socket Client)> PairAsync()
    {
        var (server, client) = await Loopback.ConnectedPairAsync();
        _sockets.Add(server);
        _sockets.Add(client);
        return (server, client);
    }

    /// <summary>
    /// Starts the actor under a probe parent and watches it; the socket is held, as the listener holds what it
    /// accepts. <paramref name="alreadyRead"/>: bytes read (and decoded) before the actor exists, as the listener
    /// passes them on. Returns once the actor has started (its receive-timeout runs from then).
    /// </summary>
    private async Task<IActorRef> StartConnectionAsync(Socket server, byte[]? alreadyRead = null, RouterSettings? settings = null)
    {
        settings ??= _settings;
        _held.Hold(server, HeldStage.ReadingPreamble);
        var preamble = alreadyRead is null ? PreambleRead.Empty(settings) : PreambleRead.From(alreadyRead, settings);
        var props = ConnectionActor.Props(server, _registry.Ref, Sys.ActorOf(FaultDrainActor.Props(settings)), settings, preamble);
        var parent = Sys.ActorOf(ProbeParent.Props(props, _parent.Ref));
        var connection = await parent.Ask<IActorRef>(ProbeParent.GetChild.Instance, TimeSpan.FromSeconds(3));
        Watch(connection);
        connection.Tell(new Identify("started"));
        await ExpectMsgAsync<ActorIdentity>();
        return connection;
    }

    /// <summary>The one answer to "is it still pending": the ledger's stage, which the actor moves on itself.</summary>
    private void AssertNoLongerPending(Socket server) =>
        Assert.False(_held.IsReadingPreamble(server), "the connection must no longer count as pending");

    private async Task<Resolve> ExpectResolveAsync(Socket server, string via = Via)
    {
        var resolve = await _registry.ExpectMsgAsync<Resolve>();
        Assert.Equal(via, resolve.Via);
        Assert.Equal((IPEndPoint)server.LocalEndPoint!, resolve.LocalEndPoint);
        return resolve;
    }

    /// <summary>The client reads exactly the fault record, then a clean EOF (the router half-closes and drains).</summary>
    private static async Task ExpectFaultThenEofAsync(Socket client, string faultUri)
    {
        var read = await Loopback.ReadToEndAsync(client);
        Assert.Equal(Convert.ToHexString(FramingWriter.Fault(faultUri)), Convert.ToHexString(read.Bytes));
        Assert.Equal(StreamEnd.Eof, read.End);
    }

    /// <summary>
    /// The client sees the connection end without a single byte. <paramref name="readWasPending"/>: the actor closed
    /// while its own receive was pending; .NET on Linux unblocks that receive with an abortive disconnect, so the
    /// client may see a reset instead of EOF (an abort, as SMSvcHost does on its receive timeout).
    /// </summary>
    private static async Task ExpectClosedWithoutBytesAsync(Socket client, bool readWasPending = false)
    {
        var read = await Loopback.ReadToEndAsync(client);
        Assert.Empty(read.Bytes);
        if (!readWasPending) Assert.Equal(StreamEnd.Eof, read.End);
    }

    private static WorkerEndpoint Worker(int dataPort = 1) => new(4242, "worker-host", null, "127.0.0.1", dataPort);

    [Fact]
    public async Task ConnectionActor_must_send_Resolve_when_the_preamble_arrives_in_one_piece()
    {
        var (server, client) = await PairAsync();
        await StartConnectionAsync(server);

        await Loopback.SendAsync(client, DuplexPreamble());

        await ExpectResolveAsync(server);
        await _parent.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task ConnectionActor_must_send_Resolve_when_the_preamble_arrives_in_small_pieces()
    {
        var (server, client) = await PairAsync();
        await StartConnectionAsync(server);
        var preamble = DuplexPreamble();

        // Version+Mode, part of the via length/string, the rest of the via, then encoding + PreambleEnd.
        int[] cuts = [5, 12, preamble.Length - 3, preamble.Length];
        var from = 0;
        foreach (var cut in cuts)
        {
            await Loopback.SendAsync(client, preamble.AsMemory(from, cut - from));
            from = cut;
            if (cut < preamble.Length) await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(40));
        }

        await ExpectResolveAsync(server);
    }

    [Fact]
    public async Task ConnectionActor_must_count_as_pending_only_while_it_reads_its_preamble()
    {
        var (server, client) = await PairAsync();
        await StartConnectionAsync(server);
        var preamble = DuplexPreamble();
        await Loopback.SendAsync(client, preamble.AsMemory(0, 5));
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
        Assert.True(_held.IsReadingPreamble(server), "a connection waiting for the rest of its preamble is pending");

        await Loopback.SendAsync(client, preamble.AsMemory(5));

        await ExpectResolveAsync(server); // the stage moved on before the registry was asked
        AssertNoLongerPending(server);
        await _parent.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task ConnectionActor_must_send_Resolve_after_the_encoding_record_without_waiting_for_PreambleEnd()
    {
        // Like SMSvcHost: route once via and encoding are known; upgrades and PreambleEnd are the worker's business.
        var (server, client) = await PairAsync();
        await StartConnectionAsync(server);

        await Loopback.SendAsync(client, FramingWriter.Preamble(FramingMode.Duplex, Via, includePreambleEnd: false));

        await ExpectResolveAsync(server);
    }

    [Fact]
    public async Task ConnectionActor_must_answer_EndpointNotFound_when_no_route()
    {
        var (server, client) = await PairAsync();
        var connection = await StartConnectionAsync(server);
        await Loopback.SendAsync(client, DuplexPreamble());
        await ExpectResolveAsync(server);

        _registry.Reply(new RouteNotFound(Via));

        AssertNoLongerPending(server);
        await ExpectTerminatedAsync(connection);
        await ExpectFaultThenEofAsync(client, FramingFaults.EndpointNotFound);
    }

    [Fact]
    public async Task ConnectionActor_must_pass_socket_and_bytes_read_to_the_gateway_when_route_found()
    {
        var (server, client) = await PairAsync();
        var gateway = CreateTestProbe("gateway");
        var connection = await StartConnectionAsync(server);
        var preamble = DuplexPreamble();
        await Loopback.SendAsync(client, preamble);
        await ExpectResolveAsync(server);

        _registry.Reply(new RouteFound("net.tcp://+:8808/svc", Worker(), gateway.Ref));

        var handOver = await gateway.ExpectMsgAsync<HandOver>();
        Assert.Same(server, handOver.Socket);
        Assert.Equal(preamble, handOver.AlreadyRead);
        Assert.Equal(Via, handOver.Via);
        AssertNoLongerPending(server);
        await ExpectTerminatedAsync(connection);
        await _parent.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50)); // it tells the listener nothing

        // The socket now belongs to the gateway: the stopped actor must not have closed it.
        await Loopback.SendAsync(server, "still open"u8.ToArray());
        Assert.Equal("still open"u8.ToArray(), await Loopback.ReadExactlyAsync(client, 10));
        Assert.True(Loopback.IsOpenAndSilent(client));
    }

    [Fact]
    public async Task ConnectionActor_must_answer_UnsupportedVersion_for_major_version_2()
    {
        var (server, client) = await PairAsync();
        var connection = await StartConnectionAsync(server);
        var preamble = DuplexPreamble();
        preamble[1] = 2;

        await Loopback.SendAsync(client, preamble);

        await ExpectTerminatedAsync(connection);
        AssertNoLongerPending(server);
        await ExpectFaultThenEofAsync(client, FramingFaults.UnsupportedVersion);
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task ConnectionActor_must_answer_UnsupportedMode_for_Simplex()
    {
        var (server, client) = await PairAsync();
        var connection = await StartConnectionAsync(server);

        await Loopback.SendAsync(client, FramingWriter.Preamble(FramingMode.Simplex, Via));

        await ExpectTerminatedAsync(connection);
        AssertNoLongerPending(server);
        await ExpectFaultThenEofAsync(client, FramingFaults.UnsupportedMode);
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task ConnectionActor_must_close_without_fault_when_via_is_longer_than_max_via_size()
    {
        var (server, client) = await PairAsync();
        var connection = await StartConnectionAsync(server);

        // Version, Mode, then a Via record announcing 65 bytes (max-via-size is 64): refused before its bytes.
        var header = new byte[] { 0x00, 0x01, 0x00, 0x01, 0x02, 0x02, 0x00 };
        header[^1] = (byte)(_settings.MaxViaSize + 1);
        await Loopback.SendAsync(client, header);

        await ExpectTerminatedAsync(connection);
        await ExpectClosedWithoutBytesAsync(client);
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        await _parent.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task ConnectionActor_must_close_without_fault_when_a_whole_preamble_has_a_via_over_the_limit()
    {
        var (server, client) = await PairAsync();
        var connection = await StartConnectionAsync(server);
        var via = "net.tcp://localhost:8808/" + new string('a', _settings.MaxViaSize);

        await Loopback.SendAsync(client, DuplexPreamble(via));

        await ExpectTerminatedAsync(connection);
        // The connection is aborted with the rest of the preamble unread, so the client may see a reset rather
        // than EOF (as with SMSvcHost's abort); either way it must not see a single byte.
        var read = await Loopback.ReadToEndAsync(client);
        Assert.Empty(read.Bytes);
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task ConnectionActor_must_close_when_the_first_byte_is_not_a_Version_record()
    {
        var (server, client) = await PairAsync();
        var connection = await StartConnectionAsync(server);

        await Loopback.SendAsync(client, new byte[] { (byte)'G' });

        await ExpectTerminatedAsync(connection);
        await ExpectClosedWithoutBytesAsync(client);
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task ConnectionActor_must_close_when_no_preamble_arrives_within_receive_timeout()
    {
        var (server, client) = await PairAsync();
        var connection = await StartConnectionAsync(server, settings: _shortTimeout);

        await Loopback.SendAsync(client, DuplexPreamble().AsMemory(0, 3)); // Version only, then silence

        Clock.Advance(_shortTimeout.ReceiveTimeout - TimeSpan.FromMilliseconds(1));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200)); // not closed before receive-timeout
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        await ExpectTerminatedAsync(connection, TimeSpan.FromSeconds(3));
        await ExpectClosedWithoutBytesAsync(client, readWasPending: true);
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task ConnectionActor_must_close_when_the_registry_does_not_answer_within_receive_timeout()
    {
        var (server, client) = await PairAsync();
        var connection = await StartConnectionAsync(server, settings: _shortTimeout);
        await Loopback.SendAsync(client, DuplexPreamble());
        await ExpectResolveAsync(server);

        Clock.Advance(_shortTimeout.ReceiveTimeout - TimeSpan.FromMilliseconds(1));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        await ExpectTerminatedAsync(connection, TimeSpan.FromSeconds(3));
        await ExpectClosedWithoutBytesAsync(client);
    }

    [Fact]
    public async Task ConnectionActor_must_close_when_shed()
    {
        var (server, client) = await PairAsync();
        var connection = await StartConnectionAsync(server);
        await Loopback.SendAsync(client, DuplexPreamble().AsMemory(0, 5));
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));

        connection.Tell(Shed.Instance);

        await ExpectTerminatedAsync(connection, TimeSpan.FromSeconds(1.5)); // well before receive-timeout (3 s)
        await ExpectClosedWithoutBytesAsync(client, readWasPending: true);
        await _parent.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task ConnectionActor_must_stop_quietly_when_the_client_closes_before_its_preamble()
    {
        var (server, client) = await PairAsync();
        var connection = await StartConnectionAsync(server);

        // EOF before any byte is a client dropping a pooled connection: no log line above debug.
        await EventFilter.Info(contains: "Closing connection").ExpectAsync(0, TimeSpan.FromMilliseconds(300), async () =>
        {
            client.Shutdown(SocketShutdown.Send);
            await ExpectTerminatedAsync(connection, TimeSpan.FromSeconds(1.5));
        });
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
        await _parent.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
        await ExpectClosedWithoutBytesAsync(client);
    }

    [Fact]
    public async Task ConnectionActor_must_close_with_a_reason_when_the_client_closes_inside_its_preamble()
    {
        var (server, client) = await PairAsync();
        var connection = await StartConnectionAsync(server);
        await Loopback.SendAsync(client, DuplexPreamble().AsMemory(0, 5));

        await EventFilter.Info(contains: "before its preamble was complete").ExpectOneAsync(async () =>
        {
            client.Shutdown(SocketShutdown.Send);
            await ExpectTerminatedAsync(connection, TimeSpan.FromSeconds(1.5));
        });
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task ConnectionActor_must_resolve_a_rerouted_connection_from_its_already_read_bytes_without_reading()
    {
        var (server, client) = await PairAsync();
        var gateway = CreateTestProbe("gateway");
        var preamble = DuplexPreamble();
        // Bytes the client sent after the preamble are still in the socket and must stay there.
        var envelope = new byte[] { 0x06, 0x03, 0x61, 0x62, 0x63 };
        await Loopback.SendAsync(client, envelope);

        var connection = await StartConnectionAsync(server, alreadyRead: preamble);

        await ExpectResolveAsync(server);
        _registry.Reply(new RouteFound("net.tcp://+:8808/svc", Worker(), gateway.Ref));
        var handOver = await gateway.ExpectMsgAsync<HandOver>();
        Assert.Equal(preamble, handOver.AlreadyRead);
        await ExpectTerminatedAsync(connection);
        Assert.Equal(envelope, await Loopback.ReadExactlyAsync(server, envelope.Length));
    }

    [Fact]
    public async Task ConnectionActor_must_read_the_rest_of_a_rerouted_connection_whose_already_read_bytes_are_partial()
    {
        var (server, client) = await PairAsync();
        var gateway = CreateTestProbe("gateway");
        var preamble = DuplexPreamble();
        await StartConnectionAsync(server, alreadyRead: preamble[..10]);
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));

        await Loopback.SendAsync(client, preamble.AsMemory(10));

        await ExpectResolveAsync(server);
        _registry.Reply(new RouteFound("net.tcp://+:8808/svc", Worker(), gateway.Ref));
        Assert.Equal(preamble, (await gateway.ExpectMsgAsync<HandOver>()).AlreadyRead);
    }

    /// <summary>receive-timeout 500 ms, and the relay engine given.</summary>
    private RouterSettings Relaying(string engine) => RouterSettings.Create(Akka.Configuration.ConfigurationFactory
        .ParseString($"akka-port-share.router {{ receive-timeout = 500ms, relay-engine = {engine} }}").WithFallback(Sys.Settings.Config));

    [Theory]
    [InlineData("splice")]
    [InlineData("copy")]
    public async Task ConnectionActor_must_relay_to_the_worker_listener_when_the_route_has_no_gateway(string engine)
    {
        var (server, client) = await PairAsync();
        using var workerListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        workerListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        workerListener.Listen(1);
        var workerPort = ((IPEndPoint)workerListener.LocalEndPoint!).Port;
        var settings = Relaying(engine);
        var connection = await StartConnectionAsync(server, settings: settings);
        var preamble = DuplexPreamble();
        await Loopback.SendAsync(client, preamble);
        await ExpectResolveAsync(server);

        _registry.Reply(new RouteFound("net.tcp://+:8808/svc", Worker(workerPort), null));
        // splice: the engine takes the connection and the actor stops at once; copy: the actor runs the relay.
        if (engine == "splice") await ExpectTerminatedAsync(connection);

        using var accepting = new CancellationTokenSource(Loopback.IoTimeout);
        using var worker = await workerListener.AcceptAsync(accepting.Token);
        Assert.Equal(preamble, await Loopback.ReadExactlyAsync(worker, preamble.Length));
        AssertNoLongerPending(server);

        await Loopback.SendAsync(client, "ping"u8.ToArray());
        Assert.Equal("ping"u8.ToArray(), await Loopback.ReadExactlyAsync(worker, 4));
        await Loopback.SendAsync(worker, "pong"u8.ToArray());
        Assert.Equal("pong"u8.ToArray(), await Loopback.ReadExactlyAsync(client, 4));

        // Relaying outlives receive-timeout (500 ms here) and ends when both directions end.
        Clock.Advance(settings.ReceiveTimeout * 2);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        worker.Shutdown(SocketShutdown.Send);
        Assert.Equal(StreamEnd.Eof, (await Loopback.ReadToEndAsync(client)).End);
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal(StreamEnd.Eof, (await Loopback.ReadToEndAsync(worker)).End);
        if (engine == "copy") await ExpectTerminatedAsync(connection);
    }

    [Fact]
    public async Task ConnectionActor_must_close_both_sides_of_its_copying_relay_when_it_is_stopped()
    {
        const string engine = "copy";
        var (server, client) = await PairAsync();
        using var workerListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        workerListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        workerListener.Listen(1);
        var connection = await StartConnectionAsync(server, settings: Relaying(engine));
        var preamble = DuplexPreamble();
        await Loopback.SendAsync(client, preamble);
        await ExpectResolveAsync(server);
        _registry.Reply(new RouteFound("net.tcp://+:8808/svc", Worker(((IPEndPoint)workerListener.LocalEndPoint!).Port), null));
        using var accepting = new CancellationTokenSource(Loopback.IoTimeout);
        using var worker = await workerListener.AcceptAsync(accepting.Token);
        Assert.Equal(preamble, await Loopback.ReadExactlyAsync(worker, preamble.Length));
        await Loopback.SendAsync(client, "ping"u8.ToArray());
        Assert.Equal("ping"u8.ToArray(), await Loopback.ReadExactlyAsync(worker, 4));
        Assert.Equal(1, _held.Relayed);

        Sys.Stop(connection); // as at shutdown: the relay must not outlive its actor

        await ExpectTerminatedAsync(connection);
        Assert.Empty((await Loopback.ReadToEndAsync(client)).Bytes);
        Assert.Empty((await Loopback.ReadToEndAsync(worker)).Bytes);
        Assert.Equal(0, _held.Relayed);
    }

    [Fact]
    public async Task ConnectionActor_must_stop_once_the_splice_engine_has_its_relay_which_lives_on_until_the_engine_stops()
    {
        var (server, client) = await PairAsync();
        using var workerListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        workerListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        workerListener.Listen(1);
        var settings = Relaying("splice");
        var connection = await StartConnectionAsync(server, settings: settings);
        var preamble = DuplexPreamble();
        await Loopback.SendAsync(client, preamble);
        await ExpectResolveAsync(server);
        _registry.Reply(new RouteFound("net.tcp://+:8808/svc", Worker(((IPEndPoint)workerListener.LocalEndPoint!).Port), null));

        // No actor waits for the relay: it stops at once, and the engine holds the connection (counted as relayed).
        await ExpectTerminatedAsync(connection);
        using var accepting = new CancellationTokenSource(Loopback.IoTimeout);
        using var worker = await workerListener.AcceptAsync(accepting.Token);
        Assert.Equal(preamble, await Loopback.ReadExactlyAsync(worker, preamble.Length));
        await Loopback.SendAsync(client, "ping"u8.ToArray());
        Assert.Equal("ping"u8.ToArray(), await Loopback.ReadExactlyAsync(worker, 4));
        Assert.Equal(1, _held.Relayed);

        // As at shutdown (the engine stops with the actor system): both sides closed, nothing more sent.
        AkkaPortShare.Router.Relay.RelayEngines.Get(Sys, settings).Splice!.Dispose();

        Assert.Empty((await Loopback.ReadToEndAsync(client)).Bytes);
        Assert.Empty((await Loopback.ReadToEndAsync(worker)).Bytes);
    }

    [Fact]
    public async Task ConnectionActor_must_give_the_relayed_count_back_when_a_spliced_relay_ends()
    {
        var (server, client) = await PairAsync();
        using var workerListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        workerListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        workerListener.Listen(1);
        var connection = await StartConnectionAsync(server, settings: Relaying("splice"));
        await Loopback.SendAsync(client, DuplexPreamble());
        await ExpectResolveAsync(server);
        _registry.Reply(new RouteFound("net.tcp://+:8808/svc", Worker(((IPEndPoint)workerListener.LocalEndPoint!).Port), null));
        await ExpectTerminatedAsync(connection);
        using var accepting = new CancellationTokenSource(Loopback.IoTimeout);
        using var worker = await workerListener.AcceptAsync(accepting.Token);
        Assert.Equal(1, _held.Relayed);

        client.Shutdown(SocketShutdown.Send);
        worker.Shutdown(SocketShutdown.Send);

        Assert.Equal(StreamEnd.Eof, (await Loopback.ReadToEndAsync(client)).End);
        await AwaitConditionAsync(() => Task.FromResult(_held.Relayed == 0), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ConnectionActor_must_answer_ConnectionDispatchFailed_when_the_relay_cannot_reach_the_worker()
    {
        var (server, client) = await PairAsync();
        int closedPort;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            closedPort = ((IPEndPoint)probe.LocalEndPoint!).Port; // bound, never listening: connect is refused
        }
        var connection = await StartConnectionAsync(server);
        await Loopback.SendAsync(client, DuplexPreamble());
        await ExpectResolveAsync(server);

        _registry.Reply(new RouteFound("net.tcp://+:8808/svc", Worker(closedPort), null));

        await ExpectTerminatedAsync(connection);
        await ExpectFaultThenEofAsync(client, FramingFaults.ConnectionDispatchFailed);
    }

    [Fact]
    public async Task ConnectionActor_must_route_a_Singleton_preamble()
    {
        var (server, client) = await PairAsync();
        await StartConnectionAsync(server);

        await Loopback.SendAsync(client, FramingWriter.Preamble(FramingMode.Singleton, Via));

        await ExpectResolveAsync(server);
    }

    [Fact]
    public async Task ConnectionActor_must_route_a_preamble_whose_via_is_exactly_max_via_size()
    {
        var (server, client) = await PairAsync();
        await StartConnectionAsync(server);
        const string prefix = "net.tcp://localhost:8808/";
        var via = prefix + new string('a', _settings.MaxViaSize - Encoding.UTF8.GetByteCount(prefix));

        await Loopback.SendAsync(client, DuplexPreamble(via));

        await ExpectResolveAsync(server, via);
    }
}
