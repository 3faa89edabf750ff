using System.Net.Sockets;
using Akka.Actor;
using AkkaPortShare.Interop;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.TestSupport.Sockets;
using AkkaPortShare.Worker.Listening;
using AkkaPortShare.Worker.Sessions;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Tests.Sessions;

/// <summary>
/// Moving a connection to the worker that holds its reliable session (several workers share the address): while
/// nothing but the PreambleAck has been written, every byte since the preamble is kept, and the connection goes back
/// to the router with them; the worker that gets it (resumed) does not acknowledge the preamble again.
/// </summary>
public sealed partial class SessionConnectionActorSpec
{
    private static readonly SessionRouteKey Holder = new(0x00AB_CDEF_0123_4567UL);

    /// <summary>A hand-over channel: the router's end (to read what the worker passes back) and the worker's.</summary>
    private (Socket RouterEnd, RouterChannel Channel) RouterChannelPair()
    {
        var path = Path.Combine(Path.GetTempPath(), $"aps-session-spec-{Guid.NewGuid():N}.sock");
        var listener = UnixHandover.Listen(path);
        _disposables.Add(listener);
        var routerEnd = UnixHandover.Connect(path);
        _disposables.Add(routerEnd);
        var channel = new RouterChannel(listener.Accept());
        _disposables.Add(channel);
        return (routerEnd, channel);
    }

    private async Task<(byte[] Payload, Socket? Passed)> ReceiveFromWorkerAsync(Socket routerEnd)
    {
        var (payload, passed) = await HandoverMessages.ReceiveAsync(routerEnd);
        if (passed is not null) _disposables.Add(passed);
        return (payload, passed);
    }

    [Fact]
    public async Task SessionConnectionActor_must_pass_a_session_with_nothing_written_but_its_ack_back_to_the_router_with_every_byte_since_its_preamble()
    {
        var (routerEnd, channel) = RouterChannelPair();
        var (session, client, _) = await OpenDuplexSessionAsync(channel);
        byte[] first = SizedEnvelope(Payload(40)), second = SizedEnvelope(Payload(30, seed: 7));
        await Loopback.SendAsync(client, first);
        await Loopback.SendAsync(client, second);
        Assert.True((await _service.ExpectMsgAsync<MessageReceived>()).Movable);
        Assert.True((await _service.ExpectMsgAsync<MessageReceived>()).Movable);

        session.Tell(new MoveSession(Holder));

        var (payload, passed) = await ReceiveFromWorkerAsync(routerEnd);
        Assert.NotNull(passed);
        Assert.True(HandoverFrame.TryReadSessionMove(payload, out var holder, out var bytes));
        Assert.Equal(Holder, holder);
        Assert.Equal(Convert.ToHexString([.. Preamble(), .. first, .. second]), Convert.ToHexString(bytes));
        await ExpectTerminatedAsync(session);
        Assert.False((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        // Released, not closed: the router's copy still reaches the client.
        Assert.True(Loopback.IsOpenAndSilent(client));
        await Loopback.SendAsync(passed!, Ack);
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
    }

    [Fact]
    public async Task SessionConnectionActor_must_lose_no_byte_the_client_sends_while_its_session_moves_back_to_the_router()
    {
        // The client pipelines one-way messages: one may arrive just as the move starts. It must reach the router
        // either in the bytes passed back or still unread in the socket, never swallowed by a read nobody sees.
        for (var round = 0; round < 10; round++)
        {
            var (routerEnd, channel) = RouterChannelPair();
            var (session, client, _) = await OpenDuplexSessionAsync(channel);
            byte[] first = SizedEnvelope(Payload(40)), racing = SizedEnvelope(Payload(25, seed: (byte)(round + 1)));
            await Loopback.SendAsync(client, first);
            Assert.True((await _service.ExpectMsgAsync<MessageReceived>()).Movable);

            session.Tell(new MoveSession(Holder));
            await Loopback.SendAsync(client, racing);

            var (payload, passed) = await ReceiveFromWorkerAsync(routerEnd);
            Assert.True(HandoverFrame.TryReadSessionMove(payload, out _, out var bytes));
            byte[] replayed = [.. bytes];
            byte[] expected = [.. Preamble(), .. first, .. racing];
            var rest = expected.Length - replayed.Length;
            byte[] stream = rest > 0 ? [.. replayed, .. await Loopback.ReadExactlyAsync(passed!, rest)] : replayed;
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(stream));
            await ExpectTerminatedAsync(session);
            await _service.FishForMessageAsync(m => m is SessionClosed, TimeSpan.FromSeconds(3));
            await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50)); // drop a racing MessageReceived, if any
        }
    }

    [Fact]
    public async Task SessionConnectionActor_must_close_rather_than_move_a_session_the_service_has_written_on()
    {
        var (routerEnd, channel) = RouterChannelPair();
        var (session, client, _) = await OpenDuplexSessionAsync(channel);
        await Loopback.SendAsync(client, SizedEnvelope(Payload(20)));
        Assert.True((await _service.ExpectMsgAsync<MessageReceived>()).Movable);
        session.Tell(new Send(Payload(5)));
        Assert.Equal(SizedEnvelope(Payload(5)), await Loopback.ReadExactlyAsync(client, SizedEnvelope(Payload(5)).Length));
        await Loopback.SendAsync(client, SizedEnvelope(Payload(20, seed: 3)));
        Assert.False((await _service.ExpectMsgAsync<MessageReceived>()).Movable);

        session.Tell(new MoveSession(Holder));

        await ExpectTerminatedAsync(session);
        Assert.Empty((await Loopback.ReadToEndAsync(client)).Bytes); // closed (EOF or reset): the client's reliable session reconnects
        Assert.True(Loopback.IsOpenAndSilent(routerEnd)); // nothing was passed to the router
    }

    [Fact]
    public async Task SessionConnectionActor_must_not_offer_a_move_for_a_connection_that_did_not_come_from_the_router()
    {
        var (_, client, _) = await OpenDuplexSessionAsync(channel: null);
        await Loopback.SendAsync(client, SizedEnvelope(Payload(20)));
        Assert.False((await _service.ExpectMsgAsync<MessageReceived>()).Movable);
    }

    [Fact]
    public async Task SessionConnectionActor_must_not_acknowledge_a_resumed_sessions_preamble_again_and_never_move_it_on()
    {
        var (_, channel) = RouterChannelPair();
        var (server, client) = await PairAsync();
        var envelope = SizedEnvelope(Payload(40));
        var session = Sys.ActorOf(SessionConnectionActor.Props(server, [.. Preamble(), .. envelope], channel, _routes, _settings, resumed: true));
        Watch(session);

        await _service.ExpectMsgAsync<SessionOpened>();
        var received = await _service.ExpectMsgAsync<MessageReceived>();
        Assert.Equal(Payload(40), received.Payload);
        Assert.False(received.Movable);
        Assert.True(Loopback.IsOpenAndSilent(client)); // no second PreambleAck

        // Its next session on the same pooled connection is an ordinary one: acknowledged as usual.
        session.Tell(new Send(Payload(3)));
        Assert.Equal(SizedEnvelope(Payload(3)), await Loopback.ReadExactlyAsync(client, SizedEnvelope(Payload(3)).Length));
        await Loopback.SendAsync(client, End);
        await _service.ExpectMsgAsync<SessionClosed>();
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));
        await Loopback.SendAsync(client, Preamble());
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
    }
}
