using System.Net.Sockets;
using Akka.Actor;
using AkkaPortShare.Protocol.Framing;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Tests.Sessions;

/// <summary>
/// The Accept protocol (issue 16): a session is acknowledged and delivers messages only once its service accepts
/// it, and then to the handler the service names; handler and framing session live and die together.
/// </summary>
public sealed partial class SessionConnectionActorSpec
{
    private const string ManualVia = "net.tcp://localhost:8808/manual/Svc";

    /// <summary>A session on the manual service, opened (SessionOpened seen) but not accepted.</summary>
    private async Task<(IActorRef Session, Socket Client)> OpenUnacceptedAsync(byte[]? alsoRead = null, FramingMode mode = FramingMode.Duplex)
    {
        var (server, client) = await PairAsync();
        var session = StartSession(server, [.. Preamble(mode, ManualVia), .. alsoRead ?? []]);
        var opened = await _manualService.ExpectMsgAsync<SessionOpened>();
        Assert.Equal(session, opened.Session);
        Assert.Equal(ManualVia, opened.Via);
        return (session, client);
    }

    [Fact]
    public async Task SessionConnectionActor_must_neither_ack_nor_deliver_before_the_service_accepts()
    {
        // The first message came with the preamble: it must still wait for Accept.
        var (session, client) = await OpenUnacceptedAsync(SizedEnvelope(Payload(10)));
        var handler = CreateTestProbe("handler");

        await Task.Delay(300);
        Assert.True(Loopback.IsOpenAndSilent(client), "no PreambleAck before Accept");
        await _manualService.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        session.Tell(new Accept(handler.Ref), _manualService.Ref);

        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        Assert.Equal(Payload(10), (await handler.ExpectMsgAsync<MessageReceived>()).Payload);
    }

    [Fact]
    public async Task SessionConnectionActor_must_deliver_to_the_handler_and_not_to_the_service()
    {
        var (session, client) = await OpenUnacceptedAsync();
        var handler = CreateTestProbe("handler");
        session.Tell(new Accept(handler.Ref), _manualService.Ref);
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));

        await Loopback.SendAsync(client, SizedEnvelope(Payload(20)));
        var received = await handler.ExpectMsgAsync<MessageReceived>();
        Assert.Equal(session, received.Session);
        received.Session.Tell(new Send(Payload(4)), handler.Ref);
        Assert.Equal(SizedEnvelope(Payload(4)), await Loopback.ReadExactlyAsync(client, SizedEnvelope(Payload(4)).Length));
        await Loopback.SendAsync(client, End);

        Assert.True((await handler.ExpectMsgAsync<SessionClosed>()).Graceful);
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));
        await _manualService.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task SessionConnectionActor_must_deliver_a_streamed_message_to_the_handler()
    {
        var (session, client) = await OpenUnacceptedAsync(mode: FramingMode.Singleton);
        var handler = CreateTestProbe("handler");
        session.Tell(new Accept(handler.Ref), _manualService.Ref);
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));

        await Loopback.SendAsync(client, UnsizedEnvelope([1, 2, 3]));

        Assert.Equal(new byte[] { 1, 2, 3 }, await ReadToEndAsync((await handler.ExpectMsgAsync<MessageStreamReceived>()).Body));
        await _manualService.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SessionConnectionActor_must_write_a_Fault_answered_instead_of_Accept_so_the_client_can_read_it()
    {
        var (session, client) = await OpenUnacceptedAsync();

        session.Tell(new Fault(FramingFaults.ContentTypeInvalid), _manualService.Ref);

        // The fault instead of the ack, then EOF (not a reset): the client reports the fault.
        await ExpectFaultThenEofAsync(client, FramingFaults.ContentTypeInvalid);
        await ExpectTerminatedAsync(session);
        await _manualService.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // never accepted: no SessionClosed
    }

    [Fact]
    public async Task SessionConnectionActor_must_abort_the_connection_when_its_handler_stops()
    {
        var (session, client) = await OpenUnacceptedAsync();
        var handler = CreateTestProbe("handler");
        session.Tell(new Accept(handler.Ref), _manualService.Ref);
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));

        await EventFilter.Info(contains: "the service's session handler stopped").ExpectOneAsync(() =>
        {
            Sys.Stop(handler.Ref);
            return Task.CompletedTask;
        });

        await ExpectTerminatedAsync(session);
        Assert.Empty((await Loopback.ReadToEndAsync(client)).Bytes);
    }

    [Fact]
    public async Task SessionConnectionActor_must_close_a_session_not_accepted_within_receive_timeout()
    {
        var (server, client) = await PairAsync();
        var settings = Settings("akka-port-share.worker.receive-timeout = 500ms");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await EventFilter.Info(contains: "did not accept the session within receive-timeout").ExpectOneAsync(async () =>
        {
            var session = StartSession(server, Preamble(via: ManualVia), settings: settings);
            await _manualService.ExpectMsgAsync<SessionOpened>();
            await ExpectTerminatedAsync(session, TimeSpan.FromSeconds(3));
        });

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(450), $"closed after {clock.Elapsed}");
        Assert.Empty((await Loopback.ReadToEndAsync(client)).Bytes);
        await _manualService.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task SessionConnectionActor_must_ask_again_for_Accept_on_a_pooled_connections_next_session()
    {
        var (session, client) = await OpenUnacceptedAsync();
        var first = CreateTestProbe("first-handler");
        session.Tell(new Accept(first.Ref), _manualService.Ref);
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        await Loopback.SendAsync(client, End);
        Assert.True((await first.ExpectMsgAsync<SessionClosed>()).Graceful);
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));

        // The next session: no ack until the service accepts again, this time with another handler.
        await Loopback.SendAsync(client, (byte[])[.. Preamble(via: ManualVia), .. SizedEnvelope(Payload(3))]);
        Assert.Equal(session, (await _manualService.ExpectMsgAsync<SessionOpened>()).Session);
        await Task.Delay(200);
        Assert.True(Loopback.IsOpenAndSilent(client), "no PreambleAck before the second Accept");
        var second = CreateTestProbe("second-handler");
        session.Tell(new Accept(second.Ref), _manualService.Ref);
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        Assert.Equal(Payload(3), (await second.ExpectMsgAsync<MessageReceived>()).Payload);

        // The first handler is no longer part of this connection: its end does not touch the second session.
        Sys.Stop(first.Ref);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        await Loopback.SendAsync(client, SizedEnvelope(Payload(5)));
        Assert.Equal(Payload(5), (await second.ExpectMsgAsync<MessageReceived>()).Payload);
        await first.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }
}
