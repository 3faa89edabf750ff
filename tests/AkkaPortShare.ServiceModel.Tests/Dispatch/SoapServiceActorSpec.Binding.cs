using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Samples.Echo;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Dispatch;
using AkkaPortShare.ServiceModel.Hosting;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Dispatch;

/// <summary>An endpoint's own binding settings (NetTcpEndpointOptions): what the service actor and its sessions do with them.</summary>
public sealed partial class SoapServiceActorSpec
{
    private IActorRef Endpoint(string name, NetTcpEndpointOptions binding) =>
        Sys.ActorOf(SoapServiceActor.Props(typeof(IEchoService), BaseAddress, Forwarder.Props(_implementation.Ref), binding: binding), name);

    private TestProbe Framing()
    {
        var framing = CreateTestProbe();
        framing.IgnoreMessages<FramingSession.RequestMessages>();
        return framing;
    }

    [Fact]
    public async Task SoapServiceActor_must_accept_with_the_endpoints_MaxReceivedMessageSize_and_the_workers_without_one()
    {
        var limited = Endpoint("limited", new NetTcpEndpointOptions { MaxReceivedMessageSize = 1000 });
        var framing = Framing();
        limited.Tell(new FramingSession.SessionOpened(framing.Ref, Via, BinarySession, null));
        Assert.Equal(1000, (await framing.ExpectMsgAsync<FramingSession.Accept>()).MaxMessageSize);

        _service.Tell(new FramingSession.SessionOpened(framing.Ref, Via, BinarySession, null));
        Assert.Null((await framing.ExpectMsgAsync<FramingSession.Accept>()).MaxMessageSize);
    }

    [Fact]
    public async Task SoapServiceActor_must_close_a_session_idle_for_the_endpoints_ReceiveTimeout_and_not_one_that_talks()
    {
        var timeout = TimeSpan.FromMilliseconds(600);
        var endpoint = Endpoint("idle", new NetTcpEndpointOptions { ReceiveTimeout = timeout });
        var client = new WcfClientSession();
        var framing = Framing();
        endpoint.Tell(new FramingSession.SessionOpened(framing.Ref, Via, BinarySession, null));
        var handler = (await framing.ExpectMsgAsync<FramingSession.Accept>()).Handler;

        // Messages more often than the timeout keep the session open.
        for (var i = 0; i < 4; i++)
        {
            await Task.Delay(timeout / 3);
            handler.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(Op("Post"), null, $"note {i}")));
        }
        await framing.ExpectNoMsgAsync(timeout / 2);

        // Then silence: the session is closed (End) about ReceiveTimeout after the last message, not before.
        await framing.ExpectMsgAsync<FramingSession.Close>(timeout * 2);

        // The endpoint without one runs with HOCON's (10 minutes): nothing closes in the meantime.
        var other = Framing();
        _service.Tell(new FramingSession.SessionOpened(other.Ref, Via, BinarySession, null));
        await other.ExpectMsgAsync<FramingSession.Accept>();
        await other.ExpectNoMsgAsync(timeout * 2);
    }

    [Theory]
    [InlineData("Soap11WSAddressing10", "text/xml; charset=utf-8")]
    [InlineData("Soap12WSAddressing10", "application/soap+xml; charset=utf-8")]
    public async Task SoapServiceActor_must_serve_text_encoding_in_the_endpoints_message_version(string name, string contentType)
    {
        var version = name == "Soap11WSAddressing10" ? MessageVersion.Soap11WSAddressing10 : MessageVersion.Soap12WSAddressing10;
        var endpoint = Endpoint($"text-{name}", new NetTcpEndpointOptions { MessageEncoding = EndpointMessageEncoding.Text(version) });
        var encoder = new TextMessageEncodingBindingElement(version, System.Text.Encoding.UTF8).CreateMessageEncoderFactory().Encoder;
        Assert.Equal(contentType, encoder.ContentType);

        // A binary client is another encoding's: refused before anything is acknowledged.
        var binary = Framing();
        endpoint.Tell(new FramingSession.SessionOpened(binary.Ref, Via, BinarySession, null));
        Assert.Equal(FramingFaults.ContentTypeInvalid, (await binary.ExpectMsgAsync<FramingSession.Fault>()).FaultUri);

        var framing = Framing();
        endpoint.Tell(new FramingSession.SessionOpened(framing.Ref, Via, encoder.ContentType, null));
        var handler = (await framing.ExpectMsgAsync<FramingSession.Accept>()).Handler;

        var id = new UniqueId();
        var request = Message.CreateMessage(version, EchoOp.Action, OperationBody.Request(EchoOp, ["in text"]));
        request.Headers.MessageId = id;
        request.Headers.ReplyTo = new EndpointAddress(WcfClientSession.Anonymous);
        var buffers = BufferManager.CreateBufferManager(0, int.MaxValue);
        handler.Tell(new FramingSession.MessageReceived(framing.Ref, encoder.WriteMessage(request, int.MaxValue, buffers).ToArray()));

        await _implementation.ExpectMsgAsync<SessionStarted>();
        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        _implementation.Reply(new OperationResult(invoked.Arguments[0]));

        var send = await framing.ExpectMsgAsync<FramingSession.Send>();
        Assert.StartsWith("<", System.Text.Encoding.UTF8.GetString(send.Payload).TrimStart('\uFEFF'));
        using var reply = encoder.ReadMessage(new ArraySegment<byte>(send.Payload), buffers, encoder.ContentType);
        Assert.Equal(version, reply.Version);
        Assert.Equal(id, reply.Headers.RelatesTo);
        Assert.Equal("in text", OperationBody.ReadResult(reply.GetReaderAtBodyContents(), EchoOp));
    }

    [Fact]
    public async Task SoapServiceActor_must_refuse_text_on_a_binary_endpoint_and_the_other_soap_version_on_a_text_one()
    {
        var framing = Framing();
        _service.Tell(new FramingSession.SessionOpened(framing.Ref, Via, "text/xml; charset=utf-8", null));
        Assert.Equal(FramingFaults.ContentTypeInvalid, (await framing.ExpectMsgAsync<FramingSession.Fault>()).FaultUri);

        var soap11 = Endpoint("soap11", new NetTcpEndpointOptions { MessageEncoding = EndpointMessageEncoding.Text(MessageVersion.Soap11WSAddressing10) });
        soap11.Tell(new FramingSession.SessionOpened(framing.Ref, Via, "application/soap+xml; charset=utf-8", null));
        Assert.Equal(FramingFaults.ContentTypeInvalid, (await framing.ExpectMsgAsync<FramingSession.Fault>()).FaultUri);
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SoapServiceActor_must_refuse_the_framing_mode_its_TransferMode_does_not_serve()
    {
        var buffered = Endpoint("buffered", new NetTcpEndpointOptions { TransferMode = TransferMode.Buffered });
        var framing = Framing();
        buffered.Tell(new FramingSession.SessionOpened(framing.Ref, Via, "application/soap+msbin1", null, Streamed: true));
        Assert.Equal(FramingFaults.UnsupportedMode, (await framing.ExpectMsgAsync<FramingSession.Fault>()).FaultUri);
        buffered.Tell(new FramingSession.SessionOpened(framing.Ref, Via, BinarySession, null));
        await framing.ExpectMsgAsync<FramingSession.Accept>();

        var streamed = Endpoint("streamed", new NetTcpEndpointOptions { TransferMode = TransferMode.Streamed });
        streamed.Tell(new FramingSession.SessionOpened(framing.Ref, Via, BinarySession, null));
        Assert.Equal(FramingFaults.UnsupportedMode, (await framing.ExpectMsgAsync<FramingSession.Fault>()).FaultUri);
    }

    [Fact]
    public async Task SoapServiceActor_must_apply_the_endpoints_reader_quotas_to_its_encoder()
    {
        var endpoint = Endpoint("quotas", new NetTcpEndpointOptions { ReaderQuotas = new XmlDictionaryReaderQuotas { MaxStringContentLength = 100 } });
        var client = new WcfClientSession();
        var framing = Framing();
        endpoint.Tell(new FramingSession.SessionOpened(framing.Ref, Via, BinarySession, null));
        var handler = (await framing.ExpectMsgAsync<FramingSession.Accept>()).Handler;

        handler.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(EchoOp, new UniqueId(), "short")));
        await _implementation.ExpectMsgAsync<SessionStarted>();
        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal(["short"], invoked.Arguments);
        _implementation.Reply(new OperationResult("short"));
        await framing.ExpectMsgAsync<FramingSession.Send>();

        // Beyond MaxStringContentLength the argument is not read: the service is not called with it.
        handler.Tell(new FramingSession.MessageReceived(framing.Ref, client.Request(EchoOp, new UniqueId(), new string('x', 500))));
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500));
    }
}
