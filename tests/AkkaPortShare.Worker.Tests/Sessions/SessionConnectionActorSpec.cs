using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Interop;
using AkkaPortShare.Worker.Configuration;
using AkkaPortShare.Worker.Listening;
using AkkaPortShare.TestSupport.Sockets;
using AkkaPortShare.Worker.Sessions;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Tests.Sessions;

/// <summary>
/// The worker's server side of .NET Message Framing on one connection. The connection is a real loopback pair
/// (the test writes as the WCF client); a probe is the service actor the via routes to.
/// </summary>
public sealed partial class SessionConnectionActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka.loglevel = INFO
        akka-port-share.worker {
          receive-timeout = 3s
          connection-idle-timeout = 5s
          max-message-size = 1024b
        }
        """;

    private const string Via = "net.tcp://localhost:8808/svc/Echo";
    private static readonly byte[] Ack = [0x0B];
    private static readonly byte[] End = [0x07];

    private readonly WorkerSettings _settings;
    private readonly TestProbe _service;
    private readonly TestProbe _manualService; // serves ManualVia and accepts only when a spec says so
    private readonly ServiceRoutes _routes = new();
    private readonly List<IDisposable> _disposables = [];

    public SessionConnectionActorSpec() : base(Config, "SessionConnectionActorSpec")
    {
        _settings = WorkerSettings.Create(Sys);
        _service = CreateTestProbe("service");
        // The service accepts every session with itself (as the Echo sample does), so the specs below see what it
        // sees; the Accept protocol itself is specified with _manualService (SessionConnectionActorSpec.Accept.cs).
        _service.SetAutoPilot(new DelegateAutoPilot((_, message) =>
        {
            if (message is SessionOpened opened) opened.Session.Tell(new Accept(_service.Ref));
            return AutoPilot.KeepRunning;
        }));
        _routes.Add(BaseAddress.Parse("net.tcp://+:8808/svc/"), _service.Ref);
        _manualService = CreateTestProbe("manual-service");
        _routes.Add(BaseAddress.Parse("net.tcp://+:8808/manual/"), _manualService.Ref);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        foreach (var d in _disposables)
        {
            try { d.Dispose(); } catch { /* already gone */ }
        }
    }

    private static byte[] Preamble(FramingMode mode = FramingMode.Duplex, string via = Via) => FramingWriter.Preamble(mode, via);

    private static byte[] SizedEnvelope(byte[] payload)
    {
        var header = new byte[FramingWriter.MaxSizedEnvelopeHeaderSize];
        var n = FramingWriter.WriteSizedEnvelopeHeader(header, payload.Length);
        return [.. header.AsSpan(0, n), .. payload];
    }

    private static byte[] Payload(int size, byte seed = 1) => Enumerable.Range(0, size).Select(i => (byte)(seed + i)).ToArray();

    private async Task<(Socket Server, Socket Client)> PairAsync()
    {
        var (server, client) = await Loopback.ConnectedPairAsync();
        _disposables.Add(server);
        _disposables.Add(client);
        return (server, client);
    }

    private WorkerSettings Settings(string overrides) =>
        WorkerSettings.Create(Akka.Configuration.ConfigurationFactory.ParseString(overrides).WithFallback(Sys.Settings.Config));

    private IActorRef StartSession(Socket server, byte[] alreadyRead, RouterChannel? channel = null, WorkerSettings? settings = null)
    {
        var session = Sys.ActorOf(SessionConnectionActor.Props(server, alreadyRead, channel, _routes, settings ?? _settings));
        Watch(session);
        return session;
    }

    /// <summary>A session opened from a Duplex preamble the router already read: ack read, SessionOpened seen.</summary>
    private async Task<(IActorRef Session, Socket Client, SessionOpened Opened)> OpenDuplexSessionAsync(
        RouterChannel? channel = null, WorkerSettings? settings = null)
    {
        var (server, client) = await PairAsync();
        var session = StartSession(server, Preamble(), channel, settings);
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        var opened = await _service.ExpectMsgAsync<SessionOpened>();
        Assert.Equal(session, opened.Session);
        return (session, client, opened);
    }

    private static async Task ExpectFaultThenEofAsync(Socket client, string faultUri)
    {
        var read = await Loopback.ReadToEndAsync(client);
        Assert.Equal(Convert.ToHexString(FramingWriter.Fault(faultUri)), Convert.ToHexString(read.Bytes));
        Assert.Equal(StreamEnd.Eof, read.End);
    }

    [Fact]
    public async Task SessionConnectionActor_must_ack_the_replayed_preamble_and_open_a_session_with_the_service()
    {
        var (server, client) = await PairAsync();
        var session = StartSession(server, Preamble());

        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        var opened = await _service.ExpectMsgAsync<SessionOpened>();
        Assert.Equal(session, opened.Session);
        Assert.Equal(Via, opened.Via);
        Assert.Equal(KnownEncodings.BinarySessionContentType, opened.ContentType);
        Assert.Equal(client.LocalEndPoint!.ToString(), opened.RemoteAddress);
    }

    [Fact]
    public async Task SessionConnectionActor_must_read_the_preamble_from_the_socket_when_nothing_was_read_before()
    {
        // A direct (or relayed) connection to the worker's own port: no bytes were read by a router.
        var (server, client) = await PairAsync();
        StartSession(server, []);

        await Loopback.SendAsync(client, Preamble());

        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        Assert.Equal(Via, (await _service.ExpectMsgAsync<SessionOpened>()).Via);
    }

    [Fact]
    public async Task SessionConnectionActor_must_deliver_sized_envelopes_and_write_the_service_replies()
    {
        var (session, client, _) = await OpenDuplexSessionAsync();
        var request = Payload(300);

        await Loopback.SendAsync(client, SizedEnvelope(request));

        var received = await _service.ExpectMsgAsync<MessageReceived>();
        Assert.Equal(session, received.Session);
        Assert.Equal(request, received.Payload);

        var reply = Payload(200, seed: 7);
        received.Session.Tell(new Send(reply), _service.Ref);
        var expected = SizedEnvelope(reply);
        Assert.Equal(expected, await Loopback.ReadExactlyAsync(client, expected.Length));
    }

    [Fact]
    public async Task SessionConnectionActor_must_deliver_a_message_that_arrives_in_pieces_and_several_in_one_read()
    {
        var (_, client, _) = await OpenDuplexSessionAsync();
        var first = SizedEnvelope(Payload(500));
        var second = SizedEnvelope(Payload(3, seed: 9));
        var third = SizedEnvelope([]);

        await Loopback.SendAsync(client, first.AsMemory(0, 1));   // the type byte alone
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(30));
        await Loopback.SendAsync(client, first.AsMemory(1, 100)); // size and part of the payload
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(30));
        await Loopback.SendAsync(client, (byte[])[.. first.AsSpan(101), .. second, .. third]);

        Assert.Equal(Payload(500), (await _service.ExpectMsgAsync<MessageReceived>()).Payload);
        Assert.Equal(Payload(3, seed: 9), (await _service.ExpectMsgAsync<MessageReceived>()).Payload);
        Assert.Empty((await _service.ExpectMsgAsync<MessageReceived>()).Payload);
    }

    [Fact]
    public async Task SessionConnectionActor_must_deliver_a_message_that_came_with_the_replayed_preamble()
    {
        // The router's read may have taken the first envelope together with the preamble.
        var (server, client) = await PairAsync();
        StartSession(server, [.. Preamble(), .. SizedEnvelope(Payload(10))]);

        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        await _service.ExpectMsgAsync<SessionOpened>();
        Assert.Equal(Payload(10), (await _service.ExpectMsgAsync<MessageReceived>()).Payload);
    }

    [Fact]
    public async Task SessionConnectionActor_must_answer_End_with_End_and_close_the_session_gracefully()
    {
        var (session, client, _) = await OpenDuplexSessionAsync();

        await Loopback.SendAsync(client, End);

        var closed = await _service.ExpectMsgAsync<SessionClosed>();
        Assert.Equal(session, closed.Session);
        Assert.True(closed.Graceful);
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));
        // The connection stays open for reuse by the client's pool.
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.True(Loopback.IsOpenAndSilent(client));
    }

    [Fact]
    public async Task SessionConnectionActor_must_run_a_whole_session_and_then_a_second_one_on_the_same_socket()
    {
        var (session, client, _) = await OpenDuplexSessionAsync();
        await Loopback.SendAsync(client, SizedEnvelope(Payload(20)));
        var received = await _service.ExpectMsgAsync<MessageReceived>();
        received.Session.Tell(new Send(Payload(5)));
        Assert.Equal(SizedEnvelope(Payload(5)), await Loopback.ReadExactlyAsync(client, SizedEnvelope(Payload(5)).Length));
        await Loopback.SendAsync(client, End);
        Assert.True((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));

        // A pooled WCF client sends the same preamble again on the same socket.
        await Loopback.SendAsync(client, Preamble());

        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        var second = await _service.ExpectMsgAsync<SessionOpened>();
        Assert.Equal(session, second.Session);
        Assert.Equal(Via, second.Via);
        await Loopback.SendAsync(client, SizedEnvelope(Payload(7, seed: 3)));
        Assert.Equal(Payload(7, seed: 3), (await _service.ExpectMsgAsync<MessageReceived>()).Payload);
    }

    [Fact]
    public async Task SessionConnectionActor_must_accept_a_second_preamble_that_arrives_in_pieces()
    {
        var (_, client, _) = await OpenDuplexSessionAsync();
        await Loopback.SendAsync(client, End);
        await _service.ExpectMsgAsync<SessionClosed>();
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));
        var preamble = Preamble();

        await Loopback.SendAsync(client, preamble.AsMemory(0, 7));
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
        await Loopback.SendAsync(client, preamble.AsMemory(7));

        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        await _service.ExpectMsgAsync<SessionOpened>();
    }

    [Fact]
    public async Task SessionConnectionActor_must_fault_MaxMessageSizeExceeded_for_an_envelope_over_max_message_size()
    {
        var (session, client, _) = await OpenDuplexSessionAsync();

        await Loopback.SendAsync(client, SizedEnvelope(Payload(_settings.MaxMessageSize + 1)));

        await ExpectFaultThenEofAsync(client, FramingFaults.MaxMessageSizeExceeded);
        Assert.False((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        await ExpectTerminatedAsync(session);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SessionConnectionActor_must_accept_an_envelope_of_exactly_max_message_size()
    {
        var (_, client, _) = await OpenDuplexSessionAsync();

        await Loopback.SendAsync(client, SizedEnvelope(Payload(_settings.MaxMessageSize)));

        Assert.Equal(_settings.MaxMessageSize, (await _service.ExpectMsgAsync<MessageReceived>()).Payload.Length);
    }

    [Fact]
    public async Task SessionConnectionActor_must_fault_UpgradeInvalid_when_the_preamble_requests_an_upgrade()
    {
        var (server, client) = await PairAsync();
        var upgrade = new byte[64];
        var n = FramingWriter.WriteUpgradeRequest(upgrade, "application/ssl-tls");
        var session = StartSession(server, [.. FramingWriter.Preamble(FramingMode.Duplex, Via, includePreambleEnd: false), .. upgrade.AsSpan(0, n)]);

        await ExpectFaultThenEofAsync(client, FramingFaults.UpgradeInvalid);
        await ExpectTerminatedAsync(session);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SessionConnectionActor_must_fault_EndpointNotFound_for_a_via_no_service_serves()
    {
        var (server, client) = await PairAsync();
        var session = StartSession(server, Preamble(via: "net.tcp://localhost:8808/elsewhere"));

        await ExpectFaultThenEofAsync(client, FramingFaults.EndpointNotFound);
        await ExpectTerminatedAsync(session);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SessionConnectionActor_must_fault_UnsupportedMode_for_Simplex()
    {
        var (server, client) = await PairAsync();
        StartSession(server, Preamble(FramingMode.Simplex));

        await ExpectFaultThenEofAsync(client, FramingFaults.UnsupportedMode);
    }

    [Fact]
    public async Task SessionConnectionActor_must_fault_UnsupportedVersion_for_major_version_2()
    {
        var (server, client) = await PairAsync();
        var preamble = Preamble();
        preamble[1] = 2;
        StartSession(server, preamble);

        await ExpectFaultThenEofAsync(client, FramingFaults.UnsupportedVersion);
    }

    [Fact]
    public async Task SessionConnectionActor_must_stream_a_Singleton_unsized_envelope_and_reply_unsized()
    {
        var (server, client) = await PairAsync();
        var session = StartSession(server, Preamble(FramingMode.Singleton));
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        Assert.True((await _service.ExpectMsgAsync<SessionOpened>()).Streamed);

        // 05, then chunks (mbint size + bytes), then the zero-size chunk; sent in two writes.
        byte[] envelope = [0x05, 0x03, 1, 2, 3, 0x02, 4, 5];
        await Loopback.SendAsync(client, envelope);
        var streamed = await _service.ExpectMsgAsync<MessageStreamReceived>();
        await Loopback.SendAsync(client, new byte[] { 0x01, 6, 0x00 });
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, await ReadToEndAsync(streamed.Body));
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));

        session.Tell(new Send([9, 8, 7]));
        Assert.Equal(new byte[] { 0x05, 0x03, 9, 8, 7, 0x00 }, await Loopback.ReadExactlyAsync(client, 6));

        await Loopback.SendAsync(client, End);
        Assert.True((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));
    }

    [Fact]
    public async Task SessionConnectionActor_must_answer_a_streaming_clients_early_End_only_after_the_streamed_reply()
    {
        var (server, client) = await PairAsync();
        var session = StartSession(server, Preamble(FramingMode.Singleton));
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        await _service.ExpectMsgAsync<SessionOpened>();

        // As WCF's streaming client does: the whole message, then End at once, before any reply.
        await Loopback.SendAsync(client, (byte[])[.. UnsizedEnvelope([1, 2]), .. End]);
        var streamed = await _service.ExpectMsgAsync<MessageStreamReceived>();
        Assert.Equal(new byte[] { 1, 2 }, await ReadToEndAsync(streamed.Body));
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // no SessionClosed, no End yet

        session.Tell(new SendStream(new MemoryStream([7, 7, 7])));
        Assert.Equal(new byte[] { 0x05, 0x03, 7, 7, 7, 0x00, 0x07 }, await Loopback.ReadExactlyAsync(client, 7));
        Assert.True((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
    }

    [Fact]
    public async Task SessionConnectionActor_must_answer_End_at_once_in_a_Singleton_session_without_a_message()
    {
        // Found by the fuzzer: End straight after the preamble waited for a reply to a message that never came.
        var (server, client) = await PairAsync();
        StartSession(server, Preamble(FramingMode.Singleton));
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        await _service.ExpectMsgAsync<SessionOpened>();

        await Loopback.SendAsync(client, End);

        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));
        Assert.True((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
    }

    private static async Task<byte[]> ReadToEndAsync(Stream body)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var copy = new MemoryStream();
        await body.CopyToAsync(copy, cts.Token);
        return copy.ToArray();
    }

    [Fact]
    public async Task SessionConnectionActor_must_fault_MaxMessageSizeExceeded_for_a_streamed_message_over_the_limit()
    {
        var (server, client) = await PairAsync();
        StartSession(server, Preamble(FramingMode.Singleton));
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        await _service.ExpectMsgAsync<SessionOpened>();

        await Loopback.SendAsync(client, UnsizedEnvelope(Payload(5000)));
        var streamed = await _service.ExpectMsgAsync<MessageStreamReceived>();

        await ExpectFaultThenEofAsync(client, FramingFaults.MaxMessageSizeExceeded);
        Assert.False((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        // The service reading the cut-off message must not mistake it for a whole one.
        await Assert.ThrowsAsync<IOException>(() => ReadToEndAsync(streamed.Body));
    }

    [Fact]
    public async Task SessionConnectionActor_must_fault_MaxMessageSizeExceeded_for_a_small_streamed_message_just_over_the_limit()
    {
        var (server, client) = await PairAsync();
        StartSession(server, Preamble(FramingMode.Singleton));
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        await _service.ExpectMsgAsync<SessionOpened>();

        await Loopback.SendAsync(client, UnsizedEnvelope(Payload(_settings.MaxMessageSize + 1)));
        await _service.ExpectMsgAsync<MessageStreamReceived>();

        await ExpectFaultThenEofAsync(client, FramingFaults.MaxMessageSizeExceeded);
        Assert.False((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
    }

    private static byte[] UnsizedEnvelope(byte[] payload)
    {
        var header = new byte[1 + MultiByteInt.MaxEncodedSize];
        header[0] = 0x05;
        var n = 1 + FramingWriter.WriteUnsizedChunkHeader(header.AsSpan(1), payload.Length);
        return [.. header.AsSpan(0, n), .. payload, 0x00];
    }

    [Fact]
    public async Task SessionConnectionActor_must_report_an_ungraceful_close_when_the_client_drops_mid_session()
    {
        var (session, client, _) = await OpenDuplexSessionAsync();
        await Loopback.SendAsync(client, SizedEnvelope(Payload(4)));
        await _service.ExpectMsgAsync<MessageReceived>();

        client.Dispose();

        var closed = await _service.ExpectMsgAsync<SessionClosed>();
        Assert.Equal(session, closed.Session);
        Assert.False(closed.Graceful);
        await ExpectTerminatedAsync(session);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // exactly one SessionClosed
    }

    [Fact]
    public async Task SessionConnectionActor_must_close_when_the_client_sends_a_Fault()
    {
        var (session, client, _) = await OpenDuplexSessionAsync();

        await Loopback.SendAsync(client, FramingWriter.Fault(FramingFaults.EndpointUnavailable));

        Assert.False((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        await ExpectTerminatedAsync(session);
        Assert.Empty((await Loopback.ReadToEndAsync(client)).Bytes);
    }

    [Fact]
    public async Task SessionConnectionActor_must_close_when_the_client_sends_bytes_that_are_not_a_record()
    {
        var (session, client, _) = await OpenDuplexSessionAsync();

        await Loopback.SendAsync(client, new byte[] { 0x42 });

        Assert.False((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        await ExpectTerminatedAsync(session);
    }

    [Fact]
    public async Task SessionConnectionActor_must_answer_a_service_Fault_with_the_fault_record_and_close()
    {
        var (session, client, opened) = await OpenDuplexSessionAsync();

        opened.Session.Tell(new FramingSession.Fault(FramingFaults.ServiceActivationFailed));

        Assert.False((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        var read = await Loopback.ReadToEndAsync(client);
        Assert.Equal(FramingWriter.Fault(FramingFaults.ServiceActivationFailed), read.Bytes);
        await ExpectTerminatedAsync(session);
    }

    [Fact]
    public async Task SessionConnectionActor_must_end_a_session_the_service_closes_after_what_it_sent_and_await_the_clients_End()
    {
        var (session, client, opened) = await OpenDuplexSessionAsync();
        opened.Session.Tell(new Send(Payload(5)));

        opened.Session.Tell(FramingSession.Close.Instance);

        // The reply first, then End; the session is not over until the client answers.
        var expected = SizedEnvelope(Payload(5)).Concat(End).ToArray();
        Assert.Equal(expected, await Loopback.ReadExactlyAsync(client, expected.Length));
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        // Nothing more goes out after End, and what the client still sends is not delivered.
        opened.Session.Tell(new Send(Payload(3)));
        await Loopback.SendAsync(client, SizedEnvelope(Payload(4)));
        await Loopback.SendAsync(client, End);

        Assert.True((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.True(Loopback.IsOpenAndSilent(client)); // no second End; the connection may carry a new preamble

        // A client that closes instead of answering End ends the connection quietly.
        var (other, otherClient, otherOpened) = await OpenDuplexSessionAsync();
        otherOpened.Session.Tell(FramingSession.Close.Instance);
        Assert.Equal(End, await Loopback.ReadExactlyAsync(otherClient, 1));
        otherClient.Shutdown(SocketShutdown.Send);
        Assert.True((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        await ExpectTerminatedAsync(other);
        Assert.NotEqual(session, other);
    }

    [Fact]
    public async Task SessionConnectionActor_must_close_without_a_record_when_the_service_aborts()
    {
        var (session, client, opened) = await OpenDuplexSessionAsync();

        opened.Session.Tell(new FramingSession.Abort("undecodable message"));

        Assert.False((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        await ExpectTerminatedAsync(session);
        Assert.Empty((await Loopback.ReadToEndAsync(client)).Bytes);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // exactly one SessionClosed
    }

    [Fact]
    public async Task SessionConnectionActor_must_close_when_no_preamble_arrives_within_receive_timeout()
    {
        var (server, client) = await PairAsync();
        var settings = Settings("akka-port-share.worker.receive-timeout = 500ms");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var session = StartSession(server, Preamble().AsSpan(0, 5).ToArray(), settings: settings);

        await ExpectTerminatedAsync(session, TimeSpan.FromSeconds(3));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(450), $"closed after {clock.Elapsed}");
        Assert.Empty((await Loopback.ReadToEndAsync(client)).Bytes);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task SessionConnectionActor_must_close_a_pooled_connection_idle_for_connection_idle_timeout()
    {
        var (session, client, _) = await OpenDuplexSessionAsync(settings: Settings("akka-port-share.worker.connection-idle-timeout = 700ms"));
        await Loopback.SendAsync(client, End);
        await _service.ExpectMsgAsync<SessionClosed>();
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));

        await ExpectTerminatedAsync(session, TimeSpan.FromSeconds(3));
        Assert.Empty((await Loopback.ReadToEndAsync(client)).Bytes);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50)); // no second SessionClosed
    }

    [Fact]
    public async Task SessionConnectionActor_must_give_a_started_preamble_receive_timeout_even_past_the_idle_deadline()
    {
        // idle 1 s after End; the next preamble starts at 0.5 s and ends at 1.5 s: inside its 2 s receive-timeout.
        var settings = Settings("""
            akka-port-share.worker { connection-idle-timeout = 1s, receive-timeout = 2s }
            """);
        var (session, client, _) = await OpenDuplexSessionAsync(settings: settings);
        await Loopback.SendAsync(client, End);
        await _service.ExpectMsgAsync<SessionClosed>();
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));
        var preamble = Preamble();

        await Task.Delay(500);
        await Loopback.SendAsync(client, preamble.AsMemory(0, 7));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(1000)); // the session actor must not stop meanwhile
        await Loopback.SendAsync(client, preamble.AsMemory(7));

        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        Assert.Equal(session, (await _service.ExpectMsgAsync<SessionOpened>()).Session);
    }

    [Fact]
    public async Task SessionConnectionActor_must_not_time_out_an_open_session()
    {

        // Longer than receive-timeout and connection-idle-timeout together: neither applies inside a session.
        var (session, client, _) = await OpenDuplexSessionAsync(settings: Settings("""
            akka-port-share.worker { connection-idle-timeout = 300ms, receive-timeout = 300ms }
            """));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(1000));

        await Loopback.SendAsync(client, SizedEnvelope(Payload(2)));
        Assert.Equal(session, (await _service.ExpectMsgAsync<MessageReceived>()).Session);
    }

    [Fact]
    public async Task SessionConnectionActor_must_hand_a_pooled_connection_back_to_the_router_when_the_next_via_differs()
    {
        Assert.True(UnixHandover.IsSupported, "these specs run on Linux");
        var (routerEnd, channel) = RouterChannelPair();

        var (session, client, _) = await OpenDuplexSessionAsync(channel);
        await Loopback.SendAsync(client, End);
        Assert.True((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));

        // The pooled client now wants another address on the same port: only the router knows its owner.
        var next = Preamble(via: "net.tcp://localhost:8808/other/Service");
        await Loopback.SendAsync(client, next.AsMemory(0, 9));
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
        await Loopback.SendAsync(client, next.AsMemory(9));

        var (payload, passed) = await HandoverMessages.ReceiveAsync(routerEnd);
        Assert.NotNull(passed);
        _disposables.Add(passed);
        Assert.True(HandoverFrame.TryRead(payload, out var frame));
        var alreadyRead = frame.ToArray();
        Assert.Equal(next, alreadyRead);
        await ExpectTerminatedAsync(session);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        // The worker released its copy without closing the connection: the router's copy still reaches the client.
        Assert.True(Loopback.IsOpenAndSilent(client));
        await Loopback.SendAsync(passed, Ack);
        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
    }

    [Fact]
    public async Task SessionConnectionActor_must_keep_a_pooled_connection_whose_next_via_is_the_same()
    {
        var (routerEnd, channel) = RouterChannelPair();

        var (_, client, _) = await OpenDuplexSessionAsync(channel);
        await Loopback.SendAsync(client, End);
        await _service.ExpectMsgAsync<SessionClosed>();
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));

        await Loopback.SendAsync(client, Preamble());

        Assert.Equal(Ack, await Loopback.ReadExactlyAsync(client, 1));
        await _service.ExpectMsgAsync<SessionOpened>();
    }

    [Fact]
    public async Task SessionConnectionActor_must_hand_a_pooled_connection_back_even_for_the_same_via_once_the_worker_gave_its_shared_addresses_back()
    {
        var (routerEnd, channel) = RouterChannelPair();
        var (session, client, _) = await OpenDuplexSessionAsync(channel);
        await Loopback.SendAsync(client, End);
        await _service.ExpectMsgAsync<SessionClosed>();
        Assert.Equal(End, await Loopback.ReadExactlyAsync(client, 1));

        // A rolling upgrade: this worker unregistered its shared address and drains; its successor holds it.
        _routes.HandBackNewSessions();
        await Loopback.SendAsync(client, Preamble());

        var (payload, passed) = await HandoverMessages.ReceiveAsync(routerEnd);
        Assert.NotNull(passed);
        _disposables.Add(passed);
        Assert.True(HandoverFrame.TryRead(payload, out var frame));
        Assert.Equal(Preamble(), frame.ToArray());
        await ExpectTerminatedAsync(session);
        await _service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }
}
