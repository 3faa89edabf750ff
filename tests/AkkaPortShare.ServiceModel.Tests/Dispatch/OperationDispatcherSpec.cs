using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.ServiceModel.Dispatch;
using AkkaPortShare.ServiceModel.Tests.Contracts;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Dispatch;

/// <summary>
/// The dispatcher between a request and the implementation actor (a probe): refused operations and unreadable
/// arguments get a fault and never reach the actor nor throw (a throw here would crash the session actor).
/// </summary>
public sealed class OperationDispatcherSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly MessageVersion Version = MessageVersion.Soap12WSAddressing10;
    private static readonly ContractMap Shapes = ContractMap.For(typeof(IShapes));
    private readonly TestProbe _implementation;
    private readonly OperationDispatcher _dispatcher;

    public OperationDispatcherSpec() : base("akka.actor.provider = local", "OperationDispatcherSpec")
    {
        _implementation = CreateTestProbe("implementation");
        _dispatcher = new OperationDispatcher(Shapes, _implementation.Ref, ServiceModelSettings.Create(Sys), Version, "IShapes-1",
            Sys.Log, ServiceModelMetrics.Get(Sys).ForEndpoint("net.tcp://+:8808/shapes/", Shapes.ContractName));
    }

    private static Message Request(string action, string bodyXml)
    {
        var message = Message.CreateMessage(Version, action, XmlReader.Create(new StringReader(bodyXml)));
        message.Headers.MessageId = new UniqueId();
        return message;
    }

    private Task<Message?> Dispatch(Message request)
    {
        using (request) return _dispatcher.DispatchAsync(request, ActorRefs.Nobody);
    }

    private static string FaultReason(Message? reply)
    {
        Assert.NotNull(reply);
        Assert.True(reply!.IsFault);
        return MessageFault.CreateFault(reply, int.MaxValue).Reason.ToString();
    }

    [Fact]
    public async Task OperationDispatcher_must_answer_a_refused_operation_with_a_fault_that_names_it()
    {
        var reply = await Dispatch(Request($"{IShapes.Ns}/IShapes/UploadXml", $"""<Upload xmlns="{IShapes.Ns}" />"""));

        Assert.Contains("The operation UploadXml is not supported", FaultReason(reply));
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task OperationDispatcher_must_answer_an_unreadable_argument_with_a_fault_and_not_throw()
    {
        var reply = await Dispatch(Request($"{IShapes.Ns}/IShapes/Grow",
            $"""<Grow xmlns="{IShapes.Ns}"><shape><Name>c</Name></shape><by>not a number</by></Grow>"""));

        Assert.Contains("deserialize", FaultReason(reply));
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task OperationDispatcher_must_answer_unreadable_base64_of_a_stream_with_a_fault_and_not_throw()
    {
        var reply = await Dispatch(Request($"{IShapes.Ns}/IShapes/Measure",
            $"""<Measure xmlns="{IShapes.Ns}"><data>!!! not base64 !!!</data></Measure>"""));

        Assert.Contains("deserialize", FaultReason(reply));
    }

    [Fact]
    public async Task OperationDispatcher_must_give_a_buffered_stream_parameter_to_the_actor_as_its_bytes()
    {
        var pending = Dispatch(Request($"{IShapes.Ns}/IShapes/Measure",
            $"""<Measure xmlns="{IShapes.Ns}"><data>{Convert.ToBase64String([1, 2, 3])}</data></Measure>"""));

        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal("Measure", invoked.Operation);
        Assert.Equal([1, 2, 3], Assert.IsType<MemoryStream>(invoked.Arguments[0]).ToArray());
        _implementation.Reply(new OperationResult(3L));
        var reply = await pending;
        Assert.False(reply!.IsFault);
    }

    [Fact]
    public async Task OperationDispatcher_must_give_an_untyped_operation_a_message_that_outlives_the_request()
    {
        var pending = Dispatch(Request($"{IShapes.Ns}/raw", """<text xmlns="urn:x">payload</text>"""));

        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        // The request was disposed when DispatchAsync returned; the actor's copy is still readable.
        var message = Assert.IsAssignableFrom<Message>(Assert.Single(invoked.Arguments));
        Assert.Equal("payload", message.GetReaderAtBodyContents().ReadElementContentAsString());
        _implementation.Reply(new OperationResult(Message.CreateMessage(Version, $"{IShapes.Ns}/raw-reply", "done")));
        var reply = await pending;
        Assert.Equal(($"{IShapes.Ns}/raw-reply", "done"), (reply!.Headers.Action, reply.GetBody<string>()));
    }

    [Fact]
    public async Task OperationDispatcher_must_fault_an_untyped_reply_of_another_message_version()
    {
        var pending = Dispatch(Request($"{IShapes.Ns}/raw", """<text xmlns="urn:x">payload</text>"""));

        await _implementation.ExpectMsgAsync<OperationInvoked>();
        _implementation.Reply(new OperationResult(Message.CreateMessage(MessageVersion.Soap11, "urn:reply", "done")));

        Assert.Contains("version", FaultReason(await pending));
    }
}
