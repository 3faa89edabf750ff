using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using AkkaPortShare.Interop;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Registration;
using AkkaPortShare.Router.Tests.TestSupport;
using AkkaPortShare.TestSupport.Sockets;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Router.Cluster.ClusterRegistryProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Registration;

/// <summary>
/// A reliable session's connection that reached a worker which does not hold the session: the registry passes it to
/// the worker the session's identifier names, as a resumed connection (its client has the PreambleAck).
/// </summary>
public sealed partial class RegistryActorSpec
{
    // An Exact host: the via's host and port decide, whatever the loopback pair's local port is.
    private const string SharedExact = "net.tcp://localhost:8808/shared/";
    private const string SharedVia = "net.tcp://localhost:8808/shared/svc";

    private async Task<(Socket Server, Socket Client)> ClientPairAsync()
    {
        var (server, client) = await Loopback.ConnectedPairAsync();
        _disposables.Add(server);
        _disposables.Add(client);
        return (server, client);
    }

    private async Task<(byte[] Payload, Socket? Passed)> PassedToAsync(FakeWorkerChannel worker)
    {
        var (payload, passed) = await HandoverMessages.ReceiveAsync(worker.Channel!);
        if (passed is not null) _disposables.Add(passed);
        return (payload, passed);
    }

    [Fact]
    public async Task RegistryActor_must_pass_a_moved_session_to_the_worker_its_key_names_as_a_resumed_connection()
    {
        var registry = StartRegistry();
        var (a, b) = (WorkerChannel(), WorkerChannel());
        await RegisterSharedWithChannelAsync(registry, CreateTestProbe(), a, SharedExact);
        await RegisterSharedWithChannelAsync(registry, CreateTestProbe(), b, SharedExact);
        var (server, client) = await ClientPairAsync();
        byte[] bytes = [.. FramingWriter.Preamble(FramingMode.Duplex, SharedVia), 0x06, 0x02, 0xAA, 0xBB];

        registry.Tell(new MoveToSessionHolder(server, SessionRouteKey.ForWorker(b.Path), bytes));

        var (payload, passed) = await PassedToAsync(b);
        Assert.NotNull(passed);
        Assert.True(HandoverFrame.TryRead(payload, out var replay, out var resumed));
        Assert.True(resumed);
        Assert.Equal(bytes, replay.ToArray());
        Assert.True(Loopback.IsOpenAndSilent(a.Channel!), "the other holder gets nothing");
        Assert.True(Loopback.IsOpenAndSilent(client));
    }

    [Fact]
    public async Task RegistryActor_must_tell_a_holder_of_a_shared_address_where_a_session_keys_worker_is_and_nobody_else()
    {
        var registry = StartRegistry();
        var (a, b) = (WorkerChannel(), WorkerChannel());
        var asker = CreateTestProbe();
        await RegisterSharedWithChannelAsync(registry, asker, a, SharedExact);
        await RegisterSharedWithChannelAsync(registry, CreateTestProbe(), b, SharedExact, dataPort: 9777);
        var key = SessionRouteKey.ForWorker(b.Path).ToString();

        registry.Tell(new FindSessionHolder(1, SharedExact, key, Secret, a.Token), asker.Ref);
        Assert.Equal(new SessionHolder(1, "127.0.0.1", 9777), await asker.ExpectMsgAsync<SessionHolder>());
        // No holder of that key, or the asker's own key: nobody to carry the connection to.
        registry.Tell(new FindSessionHolder(2, SharedExact, SessionRouteKey.ForWorker("/gone/w.sock").ToString(), Secret, a.Token), asker.Ref);
        Assert.Equal(new SessionHolder(2, null, 0), await asker.ExpectMsgAsync<SessionHolder>());
        registry.Tell(new FindSessionHolder(3, SharedExact, SessionRouteKey.ForWorker(a.Path).ToString(), Secret, a.Token), asker.Ref);
        Assert.Equal(new SessionHolder(3, null, 0), await asker.ExpectMsgAsync<SessionHolder>());

        // Unanswered: a wrong secret, a stranger, an address the asker does not hold, a key that is not one.
        var stranger = CreateTestProbe();
        registry.Tell(new FindSessionHolder(4, SharedExact, key, "wrong secret", a.Token), asker.Ref);
        registry.Tell(new FindSessionHolder(5, SharedExact, key, Secret), stranger.Ref);
        registry.Tell(new FindSessionHolder(6, "net.tcp://localhost:8808/other/", key, Secret, a.Token), asker.Ref);
        registry.Tell(new FindSessionHolder(7, SharedExact, "not-a-key", Secret, a.Token), asker.Ref);
        await asker.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        await stranger.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task RegistryActor_must_give_a_moved_session_whose_worker_is_gone_to_a_holder_of_its_via_to_answer_for_it()
    {
        var registry = StartRegistry();
        var holder = WorkerChannel();
        await RegisterSharedWithChannelAsync(registry, CreateTestProbe(), holder, SharedExact);
        var (server, _) = await ClientPairAsync();
        var bytes = FramingWriter.Preamble(FramingMode.Duplex, SharedVia);

        registry.Tell(new MoveToSessionHolder(server, SessionRouteKey.ForWorker("/gone/worker-1.sock"), bytes));

        var (payload, passed) = await PassedToAsync(holder);
        Assert.NotNull(passed);
        Assert.True(HandoverFrame.TryRead(payload, out _, out var resumed));
        Assert.True(resumed, "still resumed: the holder answers UnknownSequence, it does not acknowledge the preamble again");
    }

    [Fact]
    public async Task RegistryActor_must_answer_ConnectionDispatchFailed_for_a_moved_session_whose_via_no_worker_holds()
    {
        var registry = StartRegistry();
        var (server, client) = await ClientPairAsync();
        var bytes = FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/nobody/svc");

        registry.Tell(new MoveToSessionHolder(server, SessionRouteKey.ForWorker("/any.sock"), bytes));

        var fault = FramingWriter.Fault(FramingFaults.ConnectionDispatchFailed);
        Assert.Equal(fault, await Loopback.ReadExactlyAsync(client, fault.Length));
    }

    [Fact]
    public async Task RegistryActor_must_keep_a_resumed_connection_undelivered_to_a_dead_worker_resumed_and_off_the_listener()
    {
        var registry = StartRegistry();
        var listener = CreateTestProbe("listener");
        registry.Tell(ListenerReady.Instance, listener.Ref);
        var holder = WorkerChannel();
        await RegisterSharedWithChannelAsync(registry, CreateTestProbe(), holder, SharedExact);
        var (server, _) = await ClientPairAsync();
        var bytes = FramingWriter.Preamble(FramingMode.Duplex, SharedVia);

        registry.Tell(new Undelivered(new HandOver(server, bytes, SharedVia) { Resumed = true }, "its channel closed"));

        var (payload, passed) = await PassedToAsync(holder);
        Assert.NotNull(passed);
        Assert.True(HandoverFrame.TryRead(payload, out _, out var resumed));
        Assert.True(resumed);
        await listener.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // read from its preamble again, it would get a second PreambleAck
    }

    [Fact]
    public async Task RegistryActor_in_a_cluster_must_relay_a_moved_session_held_by_another_routers_worker_without_its_second_PreambleAck()
    {
        var registry = Sys.ActorOf(RegistryActor.Props(_settings, Sys.ActorOf(FaultDrainActor.Props(_settings)),
            cluster: _ => Props.Create(() => new ClusterStandIn(CreateTestProbe("cluster").Ref))));
        // Two holders of router B: the session's (its key came with its registration) and another, both relayed.
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        using var other = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        other.Start();
        var key = SessionRouteKey.ForWorker("/run/b/worker-77-00000000000000000000000000000077.sock");
        registry.Tell(new RemoteRegistered(SharedExact, RelayOnly(902) with { DataPort = ((IPEndPoint)other.LocalEndpoint).Port }, "router-b", "",
            Shared: true, Key: SharedExact + "\nb2"));
        registry.Tell(new RemoteRegistered(SharedExact, RelayOnly(901) with { DataPort = ((IPEndPoint)holder.LocalEndpoint).Port }, "router-b", "",
            Shared: true, Key: SharedExact + "\nb1", SessionKey: key));
        await AwaitRoutedPidAsync(registry, SharedVia, 901);
        var (server, client) = await ClientPairAsync();
        byte[] bytes = [.. FramingWriter.Preamble(FramingMode.Duplex, SharedVia), 0x06, 0x02, 0xAA, 0xBB];

        registry.Tell(new MoveToSessionHolder(server, key, bytes));

        using var worker = await holder.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(bytes, await Loopback.ReadExactlyAsync(worker, bytes.Length));
        // The worker acknowledges the preamble as for any new connection; the client, which has its PreambleAck from
        // the first worker, sees only what follows.
        await worker.SendAsync(new byte[] { 0x0B, 0x06, 0x01, 0xCC });
        Assert.Equal(new byte[] { 0x06, 0x01, 0xCC }, await Loopback.ReadExactlyAsync(client, 3));
        await client.SendAsync(new byte[] { 0xDD });
        Assert.Equal(new byte[] { 0xDD }, await Loopback.ReadExactlyAsync(worker, 1));
        Assert.False(other.Pending(), "the other holder gets nothing");
    }
}
