using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.TestSupport.Sockets;
using AkkaPortShare.Worker.Sessions;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Tests.Sessions;

/// <summary>
/// A reliable session's connection that came through the data endpoint (a relay) to a worker that shares its address
/// and does not hold the session: no router can take it back, so the connection asks its worker (here the test actor,
/// its parent) where the session's worker is and carries it there, with every byte since the preamble and without
/// that worker's PreambleAck; when nobody holds it, the connection stays and is read on, no longer movable.
/// </summary>
public sealed partial class SessionConnectionActorSpec
{
    private const string BaseAddressOfVia = "net.tcp://+:8808/svc/";

    private async Task<(IActorRef Session, Socket Client)> OpenRelayedSharedSessionAsync()
    {
        SessionRouting.For(Sys).Set(new SessionRouteKey(0x0012_3456_789A_BCDEUL)); // this worker's own key
        var (server, client) = await PairAsync();
        var session = ChildActorOf(SessionConnectionActor.Props(server, Preamble(), routerChannel: null, _routes,
            Settings("akka-port-share.worker { share-addresses = on, session-forward-timeout = 3s }")));
        Watch(session);
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        await _service.ExpectMsgAsync<SessionOpened>();
        return (session, client);
    }

    [Fact]
    public async Task SessionConnectionActor_must_carry_a_relayed_session_to_the_worker_its_key_names_with_every_byte_and_without_its_ack()
    {
        var (session, client) = await OpenRelayedSharedSessionAsync();
        byte[] first = SizedEnvelope(Payload(40)), second = SizedEnvelope(Payload(30, seed: 7)), third = SizedEnvelope(Payload(9, seed: 3));
        await Loopback.SendAsync(client, first);
        await Loopback.SendAsync(client, second);
        Assert.True((await _service.ExpectMsgAsync<MessageReceived>()).Movable);
        Assert.True((await _service.ExpectMsgAsync<MessageReceived>()).Movable);
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();

        session.Tell(new MoveSession(Holder));

        var locate = await ExpectMsgAsync<LocateSessionHolder>();
        Assert.Equal(new LocateSessionHolder(BaseAddressOfVia, Holder), locate);
        // Sent while the worker asks: still the client's, and it must reach the holder too (nothing is read here now).
        await Loopback.SendAsync(client, third);
        session.Tell(new SessionHolderLocated("127.0.0.1", ((IPEndPoint)holder.LocalEndpoint).Port));
        using var atHolder = await holder.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(10));
        byte[] replayed = [.. Preamble(), .. first, .. second];
        Assert.Equal(Convert.ToHexString(replayed), Convert.ToHexString(await Loopback.ReadExactlyAsync(atHolder, replayed.Length)));
        await ExpectTerminatedAsync(session);
        Assert.False((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // the third message was not delivered here

        // The holder acknowledges the preamble as for any connection; the client, which has this worker's ack, sees the
        // rest. The third message comes right after the replay: in it (the read that took it ended before the move),
        // or copied once the holder answered (it was still in the socket).
        byte[] reply = [.. Ack, .. SizedEnvelope(Payload(5, seed: 9))];
        await Loopback.SendAsync(atHolder, reply);
        Assert.Equal(Convert.ToHexString(third), Convert.ToHexString(await Loopback.ReadExactlyAsync(atHolder, third.Length)));
        Assert.Equal(SizedEnvelope(Payload(5, seed: 9)), await Loopback.ReadExactlyAsync(client, reply.Length - 1));
        await Loopback.SendAsync(client, End);
        Assert.Equal(End, await Loopback.ReadExactlyAsync(atHolder, 1));
    }

    [Fact]
    public async Task SessionConnectionActor_must_end_its_waiting_read_without_losing_a_byte_before_it_carries_a_relayed_session_on()
    {
        var (session, client) = await OpenRelayedSharedSessionAsync();
        var first = SizedEnvelope(Payload(40));
        await Loopback.SendAsync(client, first);
        Assert.True((await _service.ExpectMsgAsync<MessageReceived>()).Movable);
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();

        // The client waits for an answer: the connection's next read is outstanding when the holder is located.
        session.Tell(new MoveSession(Holder));
        await ExpectMsgAsync<LocateSessionHolder>();
        session.Tell(new SessionHolderLocated("127.0.0.1", ((IPEndPoint)holder.LocalEndpoint).Port));

        using var atHolder = await holder.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(10));
        byte[] replayed = [.. Preamble(), .. first];
        Assert.Equal(Convert.ToHexString(replayed), Convert.ToHexString(await Loopback.ReadExactlyAsync(atHolder, replayed.Length)));
        await ExpectTerminatedAsync(session);
        await Loopback.SendAsync(atHolder, Ack);
        var later = SizedEnvelope(Payload(64, seed: 5));
        await Loopback.SendAsync(client, later); // read by the forward now, not by the cancelled read
        Assert.Equal(Convert.ToHexString(later), Convert.ToHexString(await Loopback.ReadExactlyAsync(atHolder, later.Length)));
        Assert.True(Loopback.IsOpenAndSilent(client)); // the holder's PreambleAck did not reach the client
    }

    [Fact]
    public async Task SessionConnectionActor_must_keep_a_relayed_session_whose_worker_is_not_found_and_read_on_unmovable()
    {
        var (session, client) = await OpenRelayedSharedSessionAsync();
        await Loopback.SendAsync(client, SizedEnvelope(Payload(20)));
        Assert.True((await _service.ExpectMsgAsync<MessageReceived>()).Movable);

        session.Tell(new MoveSession(Holder));
        await ExpectMsgAsync<LocateSessionHolder>();
        session.Tell(new SessionHolderLocated(null, 0, "no worker of the address holds it now"));

        await _service.ExpectMsgAsync<SessionStays>();
        await Loopback.SendAsync(client, SizedEnvelope(Payload(20, seed: 2)));
        var again = await _service.ExpectMsgAsync<MessageReceived>();
        Assert.False(again.Movable);
        Assert.Equal(Payload(20, seed: 2), again.Payload);
        Assert.True(Loopback.IsOpenAndSilent(client));
    }

    [Fact]
    public async Task SessionConnectionActor_must_keep_a_relayed_session_the_service_wrote_on_while_its_worker_was_located()
    {
        var (session, client) = await OpenRelayedSharedSessionAsync();
        await Loopback.SendAsync(client, SizedEnvelope(Payload(20)));
        Assert.True((await _service.ExpectMsgAsync<MessageReceived>()).Movable);
        session.Tell(new MoveSession(Holder));
        await ExpectMsgAsync<LocateSessionHolder>();

        session.Tell(new Send(Payload(5)));
        Assert.Equal(SizedEnvelope(Payload(5)), await Loopback.ReadExactlyAsync(client, SizedEnvelope(Payload(5)).Length));
        session.Tell(new SessionHolderLocated("127.0.0.1", 9)); // too late: the client has this worker's answer

        await _service.ExpectMsgAsync<SessionStays>();
        // A second message's move, asked for before it stayed, changes nothing: it is told again that it stays.
        session.Tell(new MoveSession(Holder));
        await _service.ExpectMsgAsync<SessionStays>();
        await Loopback.SendAsync(client, SizedEnvelope(Payload(20, seed: 4)));
        Assert.False((await _service.ExpectMsgAsync<MessageReceived>()).Movable);
    }

    [Fact]
    public async Task SessionConnectionActor_must_not_offer_a_relayed_session_a_move_without_share_addresses()
    {
        SessionRouting.For(Sys).Set(new SessionRouteKey(0x0012_3456_789A_BCDEUL));
        var (_, client, _) = await OpenDuplexSessionAsync(channel: null);
        await Loopback.SendAsync(client, SizedEnvelope(Payload(20)));
        Assert.False((await _service.ExpectMsgAsync<MessageReceived>()).Movable);
    }
}
