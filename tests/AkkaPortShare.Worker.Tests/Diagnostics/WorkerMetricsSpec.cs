using AkkaPortShare.TestSupport.Diagnostics;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Worker.Configuration;
using AkkaPortShare.Worker.Diagnostics;
using AkkaPortShare.Worker.Sessions;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Tests.Diagnostics;

/// <summary>
/// The worker's counters after known traffic, read in-process with a MeterListener (exact counts): real loopback
/// connections given to session connection actors, the test writing as the WCF client; a probe is the service.
/// </summary>
public sealed class WorkerMetricsSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka-port-share.worker {
          receive-timeout = 3s
          connection-idle-timeout = 5s
          max-connections = 2
        }
        """;

    private const string Registered = "net.tcp://+:8808/svc/";
    private const string Via = "net.tcp://localhost:8808/svc/Echo";
    private static readonly byte[] End = [0x07];

    private readonly WorkerSettings _settings;
    private readonly TestProbe _service;
    private readonly ServiceRoutes _routes = new();
    private readonly List<Socket> _sockets = [];
    private readonly MeterRecorder _meters;

    public WorkerMetricsSpec() : base(Config, "WorkerMetricsSpec")
    {
        _settings = WorkerSettings.Create(Sys);
        _service = CreateTestProbe("service");
        // The service accepts every session with itself: the counters count accepted sessions.
        _service.SetAutoPilot(new DelegateAutoPilot((_, message) =>
        {
            if (message is SessionOpened opened) opened.Session.Tell(new Accept(_service.Ref));
            return AutoPilot.KeepRunning;
        }));
        _routes.Add(BaseAddress.Parse(Registered), _service.Ref);

        _meters = new MeterRecorder(WorkerMetrics.Get(Sys).Meter); // this system's meter only: other specs run in parallel
    }

    protected override void Dispose(bool disposing)
    {
        _meters.Dispose();
        foreach (var socket in _sockets) socket.DisposeQuietly();
        base.Dispose(disposing);
    }

    private long Total(string key) => _meters.Total(key);

    private int Gauge(string name) => _meters.Gauge(name);

    private static byte[] SizedEnvelope(int size)
    {
        var header = new byte[FramingWriter.MaxSizedEnvelopeHeaderSize];
        var n = FramingWriter.WriteSizedEnvelopeHeader(header, size);
        return [.. header.AsSpan(0, n), .. new byte[size]];
    }

    /// <summary>A connection handed to a session actor with its preamble already read (as the router hands it over).</summary>
    private async Task<(IActorRef Session, Socket Client)> ConnectAsync(string via = Via)
    {
        var (server, client) = await Loopback.ConnectedPairAsync();
        _sockets.Add(server);
        _sockets.Add(client);
        var session = Sys.ActorOf(SessionConnectionActor.Props(server, FramingWriter.Preamble(FramingMode.Duplex, via), null, _routes, _settings));
        Watch(session);
        return (session, client);
    }

    private async Task<(IActorRef Session, Socket Client)> OpenSessionAsync()
    {
        var (session, client) = await ConnectAsync();
        Assert.Equal([0x0B], await Loopback.ReadExactlyAsync(client, 1)); // PreambleAck
        await _service.ExpectMsgAsync<SessionOpened>();
        return (session, client);
    }

    [Fact]
    public async Task WorkerMetrics_must_count_sessions_messages_refusals_and_protocol_failures()
    {
        var (_, first) = await OpenSessionAsync();
        var (second, secondClient) = await OpenSessionAsync();
        for (var i = 0; i < 3; i++) await Loopback.SendAsync(first, SizedEnvelope(10));
        await Loopback.SendAsync(secondClient, SizedEnvelope(10));
        for (var i = 0; i < 4; i++) await _service.ExpectMsgAsync<MessageReceived>();

        // max-connections (2) are open: the third gets ServerTooBusy.
        var (refused, refusedClient) = await ConnectAsync();
        await Loopback.ReadToEndAsync(refusedClient);
        await ExpectTerminatedAsync(refused);

        // The second session ends, its connection stays (pooled); then the client closes it.
        await Loopback.SendAsync(secondClient, End);
        Assert.True((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        Assert.Equal(1, Gauge("akkaportshare.worker.sessions.active"));
        Assert.Equal(2, Gauge("akkaportshare.worker.connections.active"));
        secondClient.Dispose();
        await ExpectTerminatedAsync(second);

        // Room again: a via nobody serves gets EndpointNotFound.
        var (notFound, notFoundClient) = await ConnectAsync("net.tcp://localhost:8808/elsewhere");
        await Loopback.ReadToEndAsync(notFoundClient);
        await ExpectTerminatedAsync(notFound);

        Assert.Equal(2, Total($"akkaportshare.worker.sessions.started|akkaportshare.base_address={Registered}|akkaportshare.framing.mode=duplex"));
        Assert.Equal(4, Total($"akkaportshare.worker.messages.received|akkaportshare.base_address={Registered}"));
        Assert.Equal(1, Total("akkaportshare.worker.connections.refused|error.type=ServerTooBusy"));
        Assert.Equal(1, Total("akkaportshare.worker.protocol.failures|error.type=EndpointNotFound"));
        Assert.Equal(1, Gauge("akkaportshare.worker.sessions.active"));
        Assert.Equal(1, Gauge("akkaportshare.worker.connections.active"));
    }

    [Fact]
    public async Task WorkerMetrics_must_count_a_framing_fault_the_service_asks_for_as_a_protocol_failure()
    {
        var (session, client) = await OpenSessionAsync();

        session.Tell(new Fault(FramingFaults.ContentTypeInvalid), _service.Ref);

        await Loopback.ReadToEndAsync(client);
        await ExpectTerminatedAsync(session);
        Assert.Equal(1, Total("akkaportshare.worker.protocol.failures|error.type=ContentTypeInvalid"));
        Assert.Equal(0, Gauge("akkaportshare.worker.sessions.active"));
    }

    [Fact]
    public async Task WorkerMetrics_must_count_a_session_out_when_its_connection_drops()
    {
        var (session, client) = await OpenSessionAsync();
        Assert.Equal(1, Gauge("akkaportshare.worker.sessions.active"));

        client.Dispose();

        Assert.False((await _service.ExpectMsgAsync<SessionClosed>()).Graceful);
        await ExpectTerminatedAsync(session);
        Assert.Equal(0, Gauge("akkaportshare.worker.sessions.active"));
        Assert.Equal(0, Gauge("akkaportshare.worker.connections.active"));
    }
}
