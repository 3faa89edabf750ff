using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Samples.Echo;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Dispatch;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Dispatch;

/// <summary>
/// The service actor of one address, as the framing layer talks to it: probes are the framing sessions, and the
/// implementation it creates forwards to a probe.
/// </summary>
public sealed partial class SoapServiceActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka-port-share.service-model.operation-timeout = 2s
        """;

    private const string Via = "net.tcp://localhost:8808/svc/Echo";
    private const string BaseAddress = "net.tcp://+:8808/svc/";
    private const string BinarySession = "application/soap+msbinsession1";

    private static readonly ContractMap Echo = ContractMap.For(typeof(IEchoService));
    private static readonly OperationMap EchoOp = Op("Echo");

    private readonly TestProbe _implementation;
    private readonly IActorRef _service;

    public SoapServiceActorSpec() : base(Config, "SoapServiceActorSpec")
    {
        _implementation = CreateTestProbe("implementation");
        _service = Sys.ActorOf(SoapServiceActor.Props(typeof(IEchoService), BaseAddress, Forwarder.Props(_implementation.Ref)), "echo");
    }

    private static OperationMap Op(string name)
    {
        Assert.True(Echo.TryGetOperation($"urn:akkaportshare:samples/IEchoService/{name}", out var operation));
        return operation!;
    }

    /// <summary>
    /// Opens a session as the framing layer does and accepts it; the session is announced at its first message (a
    /// one-way Post from <paramref name="client"/>, whose encoder the session's stays paired with).
    /// </summary>
    private async Task<(TestProbe Framing, IActorRef Handler, SessionStarted Started)> OpenAsync(WcfClientSession client,
        string remote = "127.0.0.1:50000")
    {
        var framing = CreateTestProbe();
        framing.IgnoreMessages<FramingSession.RequestMessages>(); // flow control: not what this spec checks
        _service.Tell(new FramingSession.SessionOpened(framing.Ref, Via, BinarySession, remote));
        var handler = (await framing.ExpectMsgAsync<FramingSession.Accept>()).Handler;
        handler.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(Op("Post"), null, "opening")));
        var started = await _implementation.ExpectMsgAsync<SessionStarted>();
        Assert.Equal("Post", (await _implementation.ExpectMsgAsync<OperationInvoked>()).Operation);
        return (framing, handler, started);
    }

    private async Task<(UniqueId? RelatesTo, object? Result)> EchoAsync(TestProbe framing, IActorRef handler, WcfClientSession client,
        string text)
    {
        var id = new UniqueId();
        handler.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(EchoOp, id, text)));
        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal([text], invoked.Arguments);
        _implementation.Reply(new OperationResult(invoked.Arguments[0]));

        var send = await framing.ExpectMsgAsync<FramingSession.Send>();
        using var reply = client.Decode(send.Payload).CreateMessage();
        Assert.Equal(id, reply.Headers.RelatesTo);
        return (reply.Headers.RelatesTo, OperationBody.ReadResult(reply.GetReaderAtBodyContents(), EchoOp));
    }

    [Fact]
    public async Task SoapServiceActor_must_start_a_session_and_dispatch_its_messages()
    {
        var client = new WcfClientSession();
        Assert.Equal(BinarySession, client.ContentType);
        var (framing, handler, started) = await OpenAsync(client);
        Assert.Equal("IEchoService-1", started.SessionId);

        handler.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(EchoOp, new UniqueId(), "hi")));

        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal(("Echo", "IEchoService-1"), (invoked.Operation, invoked.SessionId));
        Assert.Equal(started.Callback, invoked.Callback);
        _implementation.Reply(new OperationResult("hi"));
        var send = await framing.ExpectMsgAsync<FramingSession.Send>();
        using var reply = client.Decode(send.Payload).CreateMessage();
        Assert.Equal("hi", OperationBody.ReadResult(reply.GetReaderAtBodyContents(), EchoOp));
    }

    [Fact]
    public async Task SoapServiceActor_must_keep_sessions_apart()
    {
        var (firstClient, secondClient) = (new WcfClientSession(), new WcfClientSession());
        var (first, firstHandler, firstStarted) = await OpenAsync(firstClient, "127.0.0.1:50001");
        var (second, secondHandler, secondStarted) = await OpenAsync(secondClient, "127.0.0.1:50002");
        Assert.Equal(("IEchoService-1", "IEchoService-2"), (firstStarted.SessionId, secondStarted.SessionId));
        Assert.NotEqual(firstStarted.Callback, secondStarted.Callback);
        Assert.NotEqual(firstHandler, secondHandler);

        // Each session has its own encoder: each client's dictionary stays its own.
        Assert.Equal("to first", (await EchoAsync(first, firstHandler, firstClient, "to first")).Result);
        Assert.Equal("to second", (await EchoAsync(second, secondHandler, secondClient, "to second")).Result);
        Assert.Equal("first again", (await EchoAsync(first, firstHandler, firstClient, "first again")).Result);
        await second.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SoapServiceActor_must_refuse_a_session_with_another_content_type()
    {
        var framing = CreateTestProbe();
        framing.IgnoreMessages<FramingSession.RequestMessages>(); // flow control: not what this spec checks

        _service.Tell(new FramingSession.SessionOpened(framing.Ref, Via, "application/soap+xml", "127.0.0.1:50000"));

        var fault = await framing.ExpectMsgAsync<FramingSession.Fault>();
        Assert.Equal(FramingFaults.ContentTypeInvalid, fault.FaultUri);
        Assert.EndsWith("/ContentTypeInvalid", fault.FaultUri);
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));

        // Messages of a refused session go nowhere.
        _service.Tell(new FramingSession.MessageReceived(framing.Ref, new WcfClientSession().Request(EchoOp, new UniqueId(), "x")));
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        await framing.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SoapServiceActor_must_refuse_the_non_session_binary_content_type()
    {
        var framing = CreateTestProbe();
        framing.IgnoreMessages<FramingSession.RequestMessages>(); // flow control: not what this spec checks

        _service.Tell(new FramingSession.SessionOpened(framing.Ref, Via, "application/soap+msbin1", null));

        Assert.Equal(FramingFaults.ContentTypeInvalid, (await framing.ExpectMsgAsync<FramingSession.Fault>()).FaultUri);
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task SoapServiceActor_must_end_the_session_when_the_framing_session_closes()
    {
        var client = new WcfClientSession();
        var (framing, handler, started) = await OpenAsync(client);
        Watch(started.Callback);

        handler.Tell(new FramingSession.SessionClosed(framing.Ref, Graceful: true));

        Assert.Equal("IEchoService-1", (await _implementation.ExpectMsgAsync<SessionEnded>()).SessionId);
        await ExpectTerminatedAsync(started.Callback);

        // Late messages of the closed session are dropped, and closing twice ends nothing twice.
        handler.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(EchoOp, new UniqueId(), "late")));
        handler.Tell(new FramingSession.SessionClosed(framing.Ref, Graceful: false));
        _service.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(EchoOp, new UniqueId(), "late")));
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task SoapServiceActor_must_end_a_dropped_session_too()
    {
        var (first, firstHandler, _) = await OpenAsync(new WcfClientSession());
        var secondClient = new WcfClientSession();
        var (second, secondHandler, secondStarted) = await OpenAsync(secondClient);

        firstHandler.Tell(new FramingSession.SessionClosed(first.Ref, Graceful: false));

        Assert.Equal("IEchoService-1", (await _implementation.ExpectMsgAsync<SessionEnded>()).SessionId);
        // The other session goes on.
        Assert.Equal("still here", (await EchoAsync(second, secondHandler, secondClient, "still here")).Result);
        Assert.Equal("IEchoService-2", secondStarted.SessionId);
    }

    [Fact]
    public async Task SoapServiceActor_must_stop_a_failed_SOAP_session_and_keep_the_endpoint_serving()
    {
        // The supervision decision: a SOAP session that throws is stopped (never restarted with a fresh encoder), its
        // framing session sees it go, and the endpoint serves the next session.
        var (framing, handler, started) = await OpenAsync(new WcfClientSession());
        framing.Watch(handler);

        handler.Tell(new AkkaPortShare.ServiceModel.Wsrm.WsrmProtocol.SendSoap(null!)); // a bug's NullReferenceException inside the session actor

        await framing.ExpectTerminatedAsync(handler);
        Assert.Equal(started.SessionId, (await _implementation.ExpectMsgAsync<SessionEnded>()).SessionId);
        var client = new WcfClientSession();
        var (next, nextHandler, nextStarted) = await OpenAsync(client);
        Assert.Equal("IEchoService-2", nextStarted.SessionId);
        Assert.Equal("again", (await EchoAsync(next, nextHandler, client, "again")).Result);
    }

    [Fact]
    public async Task SoapServiceActor_must_ignore_messages_of_unknown_sessions()
    {
        var stranger = CreateTestProbe();

        _service.Tell(new FramingSession.MessageReceived(stranger.Ref, new WcfClientSession().Request(EchoOp, new UniqueId(), "who?")));
        _service.Tell(new FramingSession.SessionClosed(stranger.Ref, Graceful: true));

        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        await stranger.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SoapServiceActor_must_serve_the_sample_implementation_end_to_end()
    {
        var service = Sys.ActorOf(SoapServiceActor.Props(typeof(IEchoService), BaseAddress, Props.Create(() => new WcfEchoService("worker-A"))));
        var framing = CreateTestProbe();
        framing.IgnoreMessages<FramingSession.RequestMessages>(); // flow control: not what this spec checks
        var client = new WcfClientSession();
        service.Tell(new FramingSession.SessionOpened(framing.Ref, Via, BinarySession, null));
        var session = (await framing.ExpectMsgAsync<FramingSession.Accept>()).Handler;

        session.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(Op("Identity"), new UniqueId())));
        using (var reply = client.Decode((await framing.ExpectMsgAsync<FramingSession.Send>()).Payload).CreateMessage())
            Assert.Equal("worker-A", OperationBody.ReadResult(reply.GetReaderAtBodyContents(), Op("Identity")));

        session.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(Op("Post"), null, "note")));
        session.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(Op("PostedCount"), new UniqueId())));
        using (var reply = client.Decode((await framing.ExpectMsgAsync<FramingSession.Send>()).Payload).CreateMessage())
            Assert.Equal(1, OperationBody.ReadResult(reply.GetReaderAtBodyContents(), Op("PostedCount")));

        session.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(Op("Fail"), new UniqueId(), "on purpose")));
        using (var reply = client.Decode((await framing.ExpectMsgAsync<FramingSession.Send>()).Payload).CreateMessage())
        {
            Assert.Equal("urn:akkaportshare:samples/IEchoService/FailEchoFaultFault", reply.Headers.Action);
            Assert.Equal("on purpose", MessageFault.CreateFault(reply, int.MaxValue).GetDetail<EchoFault>().Reason);
        }
    }
}
