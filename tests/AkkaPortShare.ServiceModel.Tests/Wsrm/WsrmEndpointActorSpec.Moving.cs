using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Protocol.TransferWindows;
using AkkaPortShare.ServiceModel.Wsrm;
using AkkaPortShare.Worker.Sessions;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;
using static AkkaPortShare.ServiceModel.Wsrm.WsrmProtocol;

namespace AkkaPortShare.ServiceModel.Tests.Wsrm;

/// <summary>
/// Several workers share an address: a reconnected client's messages may reach a worker that does not hold its
/// session. The session's identifier names the worker that does (<see cref="SessionRouteKey"/>), and a connection that
/// can still move is sent there instead of being answered UnknownSequence.
/// </summary>
public sealed partial class WsrmEndpointActorSpec
{
    private static readonly SessionRouteKey Here = new(0x0011111111111111UL);
    private static readonly SessionRouteKey Elsewhere = new(0x0022222222222222UL);

    private static void SendMovable(IActorRef endpoint, WsrmVersion version, Message message, TestProbe connection, bool movable = true)
    {
        using (message) endpoint.Tell(new RmReceived(message.CreateBufferedCopy(int.MaxValue), version, connection.Ref) { Movable = movable });
    }

    [Fact]
    public async Task WsrmEndpointActor_must_name_this_worker_in_the_identifier_of_every_session_it_creates()
    {
        SessionRouting.For(Sys).Set(Here);
        var version = WsrmVersion.V11;
        var endpoint = StartEndpoint();

        var (created, _) = await OpenAsync(endpoint, version, ConnectionProbe());

        Assert.True(SessionRouteKey.TryReadFrom(created.Identifier, out var key));
        Assert.Equal(Here, key);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_send_a_movable_connection_whose_session_another_worker_holds_to_that_worker()
    {
        SessionRouting.For(Sys).Set(Here);
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var connection = ConnectionProbe();
        var theirs = Elsewhere.NewSequenceId();

        SendMovable(endpoint, version, EchoRequest(version, theirs, 7, new UniqueId(), "hello"), connection);

        Assert.Equal(new MoveSession(Elsewhere), await connection.ExpectMsgAsync<MoveSession>());
        await connection.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200)); // no fault, no close: the connection is gone
        await _implementation.ExpectNoMsgAsync(TimeSpan.Zero);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_answer_UnknownSequence_when_the_connection_cannot_move_or_the_session_would_be_its_own()
    {
        SessionRouting.For(Sys).Set(Here);
        var version = WsrmVersion.V11;
        var endpoint = StartEndpoint();

        // Moved here already (or secured, or something was written on it): the holder is not found through it.
        var moved = ConnectionProbe();
        SendMovable(endpoint, version, EchoRequest(version, Elsewhere.NewSequenceId(), 1, new UniqueId(), "a"), moved, movable: false);
        Assert.Equal("UnknownSequence", Codes((await FaultAsync(moved)).Fault)[1].Name);

        // An identifier of this worker's that it no longer knows (the session ended): nowhere else to look.
        var fresh = ConnectionProbe();
        SendMovable(endpoint, version, EchoRequest(version, Here.NewSequenceId(), 1, new UniqueId(), "b"), fresh);
        Assert.Equal("UnknownSequence", Codes((await FaultAsync(fresh)).Fault)[1].Name);

        // An identifier that names no worker at all.
        var foreign = ConnectionProbe();
        SendMovable(endpoint, version, EchoRequest(version, "http://example.org/seq/1", 1, new UniqueId(), "c"), foreign);
        Assert.Equal("UnknownSequence", Codes((await FaultAsync(foreign)).Fault)[1].Name);
    }

    [Fact]
    public async Task WsrmEndpointActor_must_let_a_bare_acknowledgement_of_an_unknown_sequence_pass_on_a_connection_that_can_still_move()
    {
        SessionRouting.For(Sys).Set(Here);
        var version = WsrmVersion.February2005;
        var endpoint = StartEndpoint();
        var clientsOffer = NewId(); // the service's sequence toward the client carries the client's identifier

        var movable = CreateTestProbe();
        SendMovable(endpoint, version, WsrmPackets.Write(new AckPacket(clientsOffer, [new SequenceRange(1, 3)], 8), version, Soap), movable);
        await movable.ExpectMsgAsync<RmHandled>();
        await movable.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200)); // neither a fault nor a close

        var settled = ConnectionProbe();
        SendMovable(endpoint, version, WsrmPackets.Write(new AckPacket(clientsOffer, [new SequenceRange(1, 3)], 8), version, Soap), settled,
            movable: false);
        Assert.Equal("UnknownSequence", Codes((await FaultAsync(settled)).Fault)[1].Name);
    }
}
