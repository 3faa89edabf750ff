using AkkaPortShare.TestSupport.Diagnostics;
using System.ServiceModel.Channels;
using System.Xml;
using System.Xml.Linq;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.ReliableSessions;
using AkkaPortShare.Samples.Echo;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.ServiceModel.Dispatch;
using AkkaPortShare.ServiceModel.Wsrm;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.Wsrm.WsrmProtocol;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Diagnostics;

/// <summary>
/// WCF's service counters after known traffic, read in-process with a MeterListener (exact counts): calls through
/// a service actor whose framing session is a probe (the test encodes as the WCF client), and a reliable session
/// played against an endpoint's reliable-session listener. A probe is the contract's implementation.
/// </summary>
public sealed class ServiceModelMetricsSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka.loglevel = WARNING
        akka-port-share.service-model.operation-timeout = 3s
        """;

    private const string BaseAddress = "net.tcp://+:8808/svc/";
    private const string Via = "net.tcp://localhost:8808/svc/Echo";
    private const string Endpoint = $"|akkaportshare.base_address={BaseAddress}|rpc.service=IEchoService";
    private static readonly Uri To = new(Via);
    private static readonly ContractMap Echo = ContractMap.For(typeof(IEchoService));

    private readonly TestProbe _implementation;
    private readonly MeterRecorder _meters;

    public ServiceModelMetricsSpec() : base(Config, "ServiceModelMetricsSpec")
    {
        _implementation = CreateTestProbe("implementation");
        _meters = new MeterRecorder(ServiceModelMetrics.Get(Sys).Meter); // this system's meter only: other specs run in parallel
    }

    protected override void Dispose(bool disposing)
    {
        _meters.Dispose();
        base.Dispose(disposing);
    }

    private long Total(string key) => _meters.Total(key);

    private int Measurements(string key) => _meters.Measurements(key);

    private static OperationMap Op(string name)
    {
        Assert.True(Echo.TryGetOperation($"urn:akkaportshare:samples/IEchoService/{name}", out var operation));
        return operation!;
    }

    [Fact]
    public async Task ServiceModelMetrics_must_count_calls_failed_faulted_outstanding_and_their_duration()
    {
        var service = Sys.ActorOf(SoapServiceActor.Props(typeof(IEchoService), BaseAddress, Forwarder.Props(_implementation.Ref)));
        var framing = CreateTestProbe();
        // The failure's internal-error fault closes the session after it is sent (WCF's rule, SoapSessionActorSpec):
        // the probe framing session does not act on that, so the session's later calls are still counted here.
        framing.IgnoreMessages(m => m is FramingSession.RequestMessages or FramingSession.Close);
        service.Tell(new FramingSession.SessionOpened(framing.Ref, Via, "application/soap+msbinsession1", "127.0.0.1:50000"));
        var session = (await framing.ExpectMsgAsync<FramingSession.Accept>()).Handler;
        var client = new WcfClientSession();

        // Three request/reply calls at once, then answered: one result, one failure, one fault.
        for (var i = 0; i < 3; i++)
            session.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(Op("Echo"), new UniqueId(), $"m{i}")));
        await _implementation.ExpectMsgAsync<SessionStarted>();
        var askers = new List<IActorRef>();
        for (var i = 0; i < 3; i++)
        {
            await _implementation.ExpectMsgAsync<OperationInvoked>();
            askers.Add(_implementation.LastSender);
        }
        Assert.Equal(3, Total($"akkaportshare.service.calls.outstanding{Endpoint}|rpc.method=Echo"));
        askers[0].Tell(new OperationResult("m0"));
        askers[1].Tell(new Status.Failure(new InvalidOperationException("the service broke")));
        askers[2].Tell(new OperationFault("declined"));
        for (var i = 0; i < 3; i++) await framing.ExpectMsgAsync<FramingSession.Send>();

        // A one-way call: counted, never outstanding, no duration.
        session.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(Op("Post"), null, "fire")));
        await _implementation.ExpectMsgAsync<OperationInvoked>();

        Assert.Equal(3, Total($"akkaportshare.service.calls.started{Endpoint}|rpc.method=Echo"));
        Assert.Equal(1, Total($"akkaportshare.service.calls.started{Endpoint}|rpc.method=Post"));
        Assert.Equal(1, Total($"akkaportshare.service.calls.failed{Endpoint}|rpc.method=Echo|error.type=System.InvalidOperationException"));
        Assert.Equal(1, Total($"akkaportshare.service.calls.faulted{Endpoint}|rpc.method=Echo"));
        Assert.Equal(0, Total($"akkaportshare.service.calls.outstanding{Endpoint}|rpc.method=Echo"));
        Assert.Equal(3, Measurements($"akkaportshare.service.call.duration{Endpoint}|rpc.method=Echo"));
        Assert.Equal(0, Measurements($"akkaportshare.service.call.duration{Endpoint}|rpc.method=Post"));

        Assert.Equal(1, Total($"akkaportshare.service.sessions.started{Endpoint}|akkaportshare.session.kind=framing"));
        Assert.Equal(1, Total($"akkaportshare.service.sessions.active{Endpoint}|akkaportshare.session.kind=framing"));
        session.Tell(new FramingSession.SessionClosed(framing.Ref, Graceful: true));
        await _implementation.ExpectMsgAsync<SessionEnded>();
        Assert.Equal(0, Total($"akkaportshare.service.sessions.active{Endpoint}|akkaportshare.session.kind=framing"));
    }

    [Fact]
    public async Task ServiceModelMetrics_must_count_a_call_that_times_out_as_failed()
    {
        var service = Sys.ActorOf(SoapServiceActor.Props(typeof(IEchoService), BaseAddress, Forwarder.Props(_implementation.Ref)));
        var framing = CreateTestProbe();
        framing.IgnoreMessages<FramingSession.RequestMessages>();
        service.Tell(new FramingSession.SessionOpened(framing.Ref, Via, "application/soap+msbinsession1", "127.0.0.1:50000"));
        var session = (await framing.ExpectMsgAsync<FramingSession.Accept>()).Handler;

        session.Tell(new FramingSession.MessageReceived(framing.Ref, new WcfClientSession().Request(Op("Echo"), new UniqueId(), "x")));
        await _implementation.ExpectMsgAsync<SessionStarted>();
        await _implementation.ExpectMsgAsync<OperationInvoked>(); // and never answered: operation-timeout (3 s)
        await framing.ExpectMsgAsync<FramingSession.Send>(TimeSpan.FromSeconds(6));

        Assert.Equal(1, Total($"akkaportshare.service.calls.failed{Endpoint}|rpc.method=Echo|error.type=timeout"));
        Assert.Equal(0, Total($"akkaportshare.service.calls.faulted{Endpoint}|rpc.method=Echo"));
        Assert.Equal(1, Measurements($"akkaportshare.service.call.duration{Endpoint}|rpc.method=Echo"));
    }

    [Fact]
    public async Task ServiceModelMetrics_must_count_reliable_sessions_their_dropped_messages_and_a_faulted_one()
    {
        var version = WsrmVersion.February2005;
        var endpoint = Sys.ActorOf(WsrmEndpointActor.Props(Echo, _implementation.Ref, ServiceModelSettings.Create(Sys),
            WsrmEndpointSettings.Create(Sys),
            ServiceModelMetrics.Get(Sys).ForEndpoint(BaseAddress, Echo.ContractName)));
        var connection = CreateTestProbe();
        connection.IgnoreMessages<RmHandled>();
        void Send(Message message)
        {
            using (message) endpoint.Tell(new RmReceived(message.CreateBufferedCopy(int.MaxValue), version, connection.Ref));
        }

        var offerId = WsrmClientMessages.NewId();
        Send(WsrmClientMessages.CreateSequence(version, To, offerId));
        var sequenceId = await CreatedAsync(connection, version);
        var session = connection.LastSender;
        Watch(session);
        Assert.Equal(1, Total($"akkaportshare.service.sessions.active{Endpoint}|akkaportshare.session.kind=reliable"));

        await _implementation.ExpectMsgAsync<SessionStarted>(); // the reliable session is the implementation's session
        Send(WsrmClientMessages.Request(version, To, sequenceId, 1, Op("Echo"), "one"));
        await _implementation.ExpectMsgAsync<OperationInvoked>();
        _implementation.Reply(new OperationResult("one"));
        // Message 1 again (a resend whose acknowledgement was lost), and message 100, far beyond the window of 8.
        Send(WsrmClientMessages.Request(version, To, sequenceId, 1, Op("Echo"), "one"));
        Send(WsrmClientMessages.Request(version, To, sequenceId, 100, Op("Echo"), "hundred"));
        // Both dropped before the session ends: stopping it would stop its sequence actor ahead of its mailbox.
        await AwaitAssertAsync(() =>
        {
            Assert.Equal(1, Total($"akkaportshare.service.reliable_messages.dropped{Endpoint}|akkaportshare.reliable.drop_reason=duplicate"));
            Assert.Equal(1, Total($"akkaportshare.service.reliable_messages.dropped{Endpoint}|akkaportshare.reliable.drop_reason=beyond_window"));
        });
        // The client terminates the service's own sequence: a protocol error that faults the session.
        Send(WsrmClientMessages.TerminateSequence(version, offerId));
        await ExpectTerminatedAsync(session);

        await AwaitAssertAsync(() =>
            Assert.Equal(0, Total($"akkaportshare.service.sessions.active{Endpoint}|akkaportshare.session.kind=reliable")));
        Assert.Equal(1, Total($"akkaportshare.service.sessions.started{Endpoint}|akkaportshare.session.kind=reliable"));
        Assert.Equal(1, Total($"akkaportshare.service.reliable_sessions.faulted{Endpoint}|error.type=SequenceTerminated"));
        Assert.Equal(1, Total($"akkaportshare.service.calls.started{Endpoint}|rpc.method=Echo")); // the duplicate is not a call
        await _implementation.ExpectMsgAsync<SessionEnded>();
        _implementation.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    /// <summary>The identifier of the sequence the service created, from its CreateSequenceResponse.</summary>
    private static async Task<string> CreatedAsync(TestProbe connection, WsrmVersion version)
    {
        var sent = await connection.ExpectMsgAsync<SendSoap>();
        using var message = sent.Message.CreateMessage();
        Assert.Equal(version.CreateSequenceResponseAction, message.Headers.Action);
        var reader = message.GetReaderAtBodyContents();
        reader.MoveToContent();
        var body = (XElement)XNode.ReadFrom(reader);
        var identifier = (string?)body.Element(XName.Get("Identifier", version.Namespace));
        Assert.NotNull(identifier);
        return identifier!;
    }
}
