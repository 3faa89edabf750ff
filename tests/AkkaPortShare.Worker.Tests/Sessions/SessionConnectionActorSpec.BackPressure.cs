using System.Net.Sockets;
using Akka.Actor;
using AkkaPortShare.Worker.Configuration;
using AkkaPortShare.Protocol.Framing;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Tests.Sessions;

/// <summary>
/// Back-pressure (issue 10): a connection whose unsent replies pass max-unsent-bytes is not read until they are
/// written, as WCF's server writes one reply at a time and lets TCP push back; and max-connections bounds how
/// many there are.
/// </summary>
public sealed partial class SessionConnectionActorSpec
{
    private const int ReplySize = 1024 * 1024;

    /// <summary>
    /// A session whose socket has a small kernel send buffer, so that a reply the client does not read stays in the
    /// worker's outbox (the client's receive buffer keeps its default: a small one stalls loopback on the persist timer).
    /// </summary>
    private async Task<(IActorRef Session, Socket Client)> OpenSessionWithSmallSendBufferAsync(WorkerSettings settings)
    {
        var (server, client) = await PairAsync();
        server.SendBufferSize = 4096;
        var session = StartSession(server, Preamble(), settings: settings);
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        await _service.ExpectMsgAsync<SessionOpened>();
        return (session, client);
    }

    /// <summary>
    /// A session whose client got a reply of <see cref="ReplySize"/> it does not read, then sent a second request:
    /// that request must not be delivered (not read) while the reply waits.
    /// </summary>
    private async Task<(IActorRef Session, Socket Client)> StallOnAnUnreadReplyAsync(WorkerSettings settings)
    {
        var (session, client) = await OpenSessionWithSmallSendBufferAsync(settings);
        await Loopback.SendAsync(client, SizedEnvelope(Payload(100)));
        (await _service.ExpectMsgAsync<MessageReceived>()).Session.Tell(new Send(Payload(ReplySize)), _service.Ref);
        await Loopback.SendAsync(client, SizedEnvelope(Payload(100, seed: 2)));
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500));
        return (session, client);
    }

    [Fact]
    public async Task SessionConnectionActor_must_stop_reading_at_max_unsent_bytes_and_read_on_once_they_are_written()
    {
        var settings = Settings("akka-port-share.worker.max-unsent-bytes = 64k");
        // The reply is far over the bound and the client is not reading: the next request is not read.
        var (session, client) = await StallOnAnUnreadReplyAsync(settings);

        // The client reads the reply: the unsent bytes fall below the bound and the waiting request is delivered.
        var reply = SizedEnvelope(Payload(ReplySize));
        Assert.Equal(reply, await Loopback.ReadExactlyAsync(client, reply.Length));
        var next = await _service.ExpectMsgAsync<MessageReceived>();
        Assert.Equal(Payload(100, seed: 2), next.Payload);
        Assert.Equal(session, next.Session);
    }

    [Fact]
    public async Task SessionConnectionActor_must_write_a_service_Fault_after_the_replies_still_being_written()
    {
        // The fault waits for the write in flight (the client is not reading yet) and the reply queued behind it.
        var (session, client) = await OpenSessionWithSmallSendBufferAsync(_settings);
        session.Tell(new Send(Payload(ReplySize)), _service.Ref);
        session.Tell(new Send(Payload(10, seed: 5)), _service.Ref);
        session.Tell(new FramingSession.Fault(FramingFaults.ServiceActivationFailed), _service.Ref);
        Assert.False((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        await Task.Delay(200);

        var read = await Loopback.ReadToEndAsync(client);
        byte[] expected = [.. SizedEnvelope(Payload(ReplySize)), .. SizedEnvelope(Payload(10, seed: 5)), .. FramingWriter.Fault(FramingFaults.ServiceActivationFailed)];
        Assert.Equal(expected.Length, read.Bytes.Length);
        Assert.Equal(expected, read.Bytes);
        Assert.Equal(StreamEnd.Eof, read.End);
        await ExpectTerminatedAsync(session);
    }

    [Fact]
    public async Task SessionConnectionActor_must_read_the_clients_End_after_the_service_ends_a_session_it_gave_no_credit()
    {
        // Flow control holds the reading back; once the service has ended the session nothing is delivered any more,
        // so the client's answering End must be read (not left to connection-idle-timeout).
        var (session, client, _) = await OpenDuplexSessionAsync();
        session.Tell(new RequestMessages(1), _service.Ref);
        // Credit for the first only: the second waits in the buffer and nothing more is read.
        await Loopback.SendAsync(client, (byte[])[.. SizedEnvelope(Payload(10, seed: 1)), .. SizedEnvelope(Payload(10, seed: 2))]);
        Assert.Equal(Payload(10, seed: 1), (await _service.ExpectMsgAsync<MessageReceived>()).Payload);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));

        session.Tell(FramingSession.Close.Instance, _service.Ref);
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));

        await Loopback.SendAsync(client, End);

        // Not the second message (the session was over), and not after connection-idle-timeout: the End, graceful.
        Assert.True((await _service.ExpectMsgAsync<SessionClosed>(TimeSpan.FromSeconds(1))).Graceful);
    }

    [Fact]
    public async Task SessionConnectionActor_must_deliver_at_most_max_messages_before_answer_until_its_service_says_anything()
    {
        // A busy service shared by many sessions may not have taken SessionOpened yet: what the session reads
        // meanwhile must not all land in its mailbox.
        var (session, client, _) = await OpenDuplexSessionAsync(settings: Settings("akka-port-share.worker.max-messages-before-answer = 3"));
        for (byte i = 1; i <= 5; i++) await Loopback.SendAsync(client, SizedEnvelope(Payload(100, seed: i)));

        for (byte i = 1; i <= 3; i++) Assert.Equal(Payload(100, seed: i), (await _service.ExpectMsgAsync<MessageReceived>()).Payload);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500));

        // Its first answer (here: flow control with credit) lets the rest through, as that answer allows.
        session.Tell(new RequestMessages(2), _service.Ref);
        for (byte i = 4; i <= 5; i++) Assert.Equal(Payload(100, seed: i), (await _service.ExpectMsgAsync<MessageReceived>()).Payload);
    }

    [Fact]
    public async Task SessionConnectionActor_must_read_on_while_its_unsent_bytes_stay_under_max_unsent_bytes()
    {
        // The bound is per connection: replies under it (and a client that reads them) never pause the session.
        var (_, client, _) = await OpenDuplexSessionAsync(settings: Settings("akka-port-share.worker.max-unsent-bytes = 1m"));
        for (byte i = 1; i <= 3; i++)
        {
            await Loopback.SendAsync(client, SizedEnvelope(Payload(100, seed: i)));
            (await _service.ExpectMsgAsync<MessageReceived>()).Session.Tell(new Send(Payload(200 * 1024, seed: i)), _service.Ref);
        }
        var reply = SizedEnvelope(Payload(200 * 1024, seed: 3));
        await Loopback.ReadExactlyAsync(client, 2 * SizedEnvelope(Payload(200 * 1024)).Length);
        Assert.Equal(reply, await Loopback.ReadExactlyAsync(client, reply.Length));
    }

    [Fact]
    public async Task SessionConnectionActor_must_stop_reading_a_connection_with_unsent_bytes_while_the_workers_total_is_over_its_bound()
    {
        var settings = Settings("akka-port-share.worker { max-unsent-bytes = 4m, max-unsent-bytes-total = 256k }");
        // Under its own bound, but the worker's total is over: not read while its own reply waits.
        var (stalled, stalledClient) = await StallOnAnUnreadReplyAsync(settings);

        // Another connection with nothing unsent is still read and served.
        var (_, other, _) = await OpenDuplexSessionAsync(settings: settings);
        await Loopback.SendAsync(other, SizedEnvelope(Payload(100, seed: 3)));
        var request = await _service.ExpectMsgAsync<MessageReceived>();
        Assert.Equal(Payload(100, seed: 3), request.Payload);
        request.Session.Tell(new Send(Payload(10)), _service.Ref);
        Assert.Equal(SizedEnvelope(Payload(10)), await Loopback.ReadExactlyAsync(other, SizedEnvelope(Payload(10)).Length));

        var reply = SizedEnvelope(Payload(ReplySize));
        Assert.Equal(reply, await Loopback.ReadExactlyAsync(stalledClient, reply.Length));
        Assert.Equal(stalled, (await _service.ExpectMsgAsync<MessageReceived>()).Session);
    }

    [Fact]
    public async Task SessionConnectionActor_must_answer_ServerTooBusy_beyond_max_connections()
    {
        var settings = Settings("akka-port-share.worker.max-connections = 1");
        var (first, _, _) = await OpenDuplexSessionAsync(settings: settings);

        var (server, client) = await PairAsync();
        var refused = StartSession(server, Preamble(), settings: settings);
        await ExpectFaultThenEofAsync(client, FramingFaults.ServerTooBusy);
        await ExpectTerminatedAsync(refused);

        // The count is released when a connection ends: the next one is served.
        Sys.Stop(first);
        await ExpectTerminatedAsync(first);
        await _service.ExpectMsgAsync<SessionClosed>();
        await OpenDuplexSessionAsync(settings: settings);
    }

    [Fact]
    public async Task SessionConnectionActor_must_deliver_only_what_a_service_using_flow_control_asked_for()
    {
        var (session, client, _) = await OpenDuplexSessionAsync();
        session.Tell(new RequestMessages(1), _service.Ref);
        byte[] both = [.. SizedEnvelope(Payload(10, seed: 1)), .. SizedEnvelope(Payload(10, seed: 2))];
        await Loopback.SendAsync(client, both);

        Assert.Equal(Payload(10, seed: 1), (await _service.ExpectMsgAsync<MessageReceived>()).Payload);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

        session.Tell(new RequestMessages(1), _service.Ref);
        Assert.Equal(Payload(10, seed: 2), (await _service.ExpectMsgAsync<MessageReceived>()).Payload);
    }
}
