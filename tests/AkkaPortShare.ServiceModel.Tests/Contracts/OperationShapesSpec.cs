using System.ServiceModel;
using System.ServiceModel.Channels;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Dispatch;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Contracts;

/// <summary>
/// The shapes beyond the wrapped default (message contracts, untyped Message, [XmlSerializerFormat], known types, a
/// Stream on a buffered binding), each between WCF's own client (its formatter, on an in-memory transport) and
/// OperationBody/SoapReplies read and written as the dispatcher does; and the one refused operation's fault.
/// </summary>
public sealed class OperationShapesSpec
{
    private static readonly ContractMap Shapes = ContractMap.For(typeof(IShapes));

    /// <summary>Serves a contract the way OperationDispatcher does: refused operations fault, the others are read and answered.</summary>
    private static Func<Message, Message?> Serve(ContractMap map, Func<string, object?[], object?> implementation,
        List<(string Operation, object?[] Arguments)> seen) => request =>
    {
        using (request)
        {
            var action = request.Headers.Action;
            if (map.TryGetUnsupported(action, out var refused)) return SoapReplies.NotSupported(request.Version, refused!);
            Assert.True(map.TryGetOperation(action, out var operation), $"unknown action {action}");
            var arguments = OperationBody.ReadArguments(request, operation!);
            seen.Add((operation!.Name, arguments));
            var result = implementation(operation.Name, arguments);
            return operation.IsOneWay ? null : SoapReplies.For(request.Version, operation, result as OperationResult ?? new OperationResult(result));
        }
    };

    private static T Run<T>(Func<string, object?[], object?> implementation, Func<IShapes, T> call, out List<(string Operation, object?[] Arguments)> seen)
    {
        seen = [];
        var (factory, channel) = InMemoryWcfClient.Create<IShapes>(Serve(Shapes, implementation, seen));
        try
        {
            return call(channel);
        }
        finally
        {
            factory.Abort();
        }
    }

    [Fact]
    public void A_message_contract_travels_with_its_headers_and_body_members_both_ways()
    {
        var reply = Run((_, args) =>
        {
            var request = (UploadRequest)args[0]!;
            return new UploadReply { Receipt = $"{request.FileName}@{request.Version}", Length = request.Content.Length };
        }, shapes => shapes.Upload(new UploadRequest { FileName = "a.txt", Version = 3, Owner = "ann", Content = [1, 2, 3, 4] }), out var seen);

        Assert.Equal(("a.txt@3", 4), (reply.Receipt, reply.Length));
        var (operation, arguments) = Assert.Single(seen);
        Assert.Equal("Upload", operation);
        var received = Assert.IsType<UploadRequest>(Assert.Single(arguments));
        Assert.Equal(("a.txt", 3, "ann"), (received.FileName, received.Version, received.Owner));
        Assert.Equal([1, 2, 3, 4], received.Content);
    }

    [Fact]
    public void An_untyped_operation_gets_the_message_and_its_reply_goes_back_as_it_is()
    {
        var reply = Run((_, args) =>
        {
            var request = Assert.IsType<Message>(Assert.Single(args), exactMatch: false);
            return Message.CreateMessage(request.Version, IShapes.Ns + "/raw-reply", "echo: " + request.GetBody<string>());
        }, shapes =>
        {
            using var request = Message.CreateMessage(MessageVersion.Soap12WSAddressing10, IShapes.Ns + "/raw", "payload");
            using var answer = shapes.Raw(request);
            return (answer.Headers.Action, answer.GetBody<string>());
        }, out _);

        Assert.Equal((IShapes.Ns + "/raw-reply", "echo: payload"), reply);
    }

    [Fact]
    public void An_XmlSerializerFormat_operation_is_read_and_written_with_the_XmlSerializer()
    {
        var reply = Run((_, args) =>
        {
            var order = (XmlOrder)args[0]!;
            return new XmlOrder { Id = order.Id + "-placed", Item = order.Item, Price = order.Price * (int)args[1]! };
        }, shapes => shapes.PlaceXml(new XmlOrder { Id = "a7", Item = "widget", Price = 2.5m }, 3), out var seen);

        // The bug this replaces: the DataContractSerializer read defaults, and the client read defaults back.
        var received = Assert.IsType<XmlOrder>(seen[0].Arguments[0]);
        Assert.Equal(("a7", "widget", 2.5m, 3), (received.Id, received.Item, received.Price, (int)seen[0].Arguments[1]!));
        Assert.Equal(("a7-placed", "widget", 7.5m), (reply.Id, reply.Item, reply.Price));
    }

    [Fact]
    public void A_service_known_type_is_read_and_written_as_itself()
    {
        var reply = Run((_, args) =>
        {
            var circle = Assert.IsType<Circle>(args[0]);
            return new Circle { Name = circle.Name, Radius = circle.Radius * (double)args[1]! };
        }, shapes => shapes.Grow(new Circle { Name = "c", Radius = 2 }, 1.5), out _);

        var circle = Assert.IsType<Circle>(reply);
        Assert.Equal(("c", 3.0), (circle.Name, circle.Radius));
    }

    [Fact]
    public void A_Stream_parameter_on_a_buffered_binding_arrives_as_its_bytes()
    {
        var bytes = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        var length = Run((_, args) =>
        {
            var stream = Assert.IsAssignableFrom<Stream>(args[0]);
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            Assert.Equal(bytes, copy.ToArray());
            return copy.Length;
        }, shapes => shapes.Measure(new MemoryStream(bytes)), out _);

        Assert.Equal(bytes.Length, length);
    }

    [Fact]
    public void An_XmlSerializerFormat_callback_is_written_and_its_reply_read_with_the_XmlSerializer()
    {
        Assert.True(ContractMap.For(typeof(IUntypedCallbacks)).TryGetCallback("Review", out var review));
        var version = MessageVersion.Soap12WSAddressing10;

        using var request = Message.CreateMessage(version, review!.Action,
            OperationBody.Request(review, [new XmlOrder { Id = "r1", Item = "lamp", Price = 4m }]));
        var xml = request.GetReaderAtBodyContents().ReadOuterXml();
        // An XmlSerializer attribute, not a DataContractSerializer element.
        Assert.Contains("Id=\"r1\"", xml);
        Assert.Contains("<Item>lamp</Item>", xml.Replace($" xmlns=\"{IShapes.Ns}\"", ""));

        using var reply = Message.CreateMessage(version, review.ReplyAction,
            OperationBody.Reply(review, new XmlOrder { Id = "r1-ok", Item = "lamp", Price = 5m }));
        var order = Assert.IsType<XmlOrder>(OperationBody.ReadResult(reply.GetReaderAtBodyContents(), review));
        Assert.Equal(("r1-ok", "lamp", 5m), (order.Id, order.Item, order.Price));
    }

    [Fact]
    public void Out_and_ref_parameters_arrive_in_place_and_go_back_after_the_result()
    {
        var b = 2;
        var (quotient, remainder) = Run((_, args) => new OperationResult((int)args[0]! / (int)args[1]!)
        {
            Outputs = [(int)args[1]! * 10, (int)args[0]! % (int)args[1]!],
        }, shapes => (shapes.Divide(7, ref b, out var r), r), out var seen);

        Assert.Equal((3, 1, 20), (quotient, remainder, b));
        // One argument per parameter, the out one null.
        Assert.Equal([7, 2, null], seen[0].Arguments);
    }

    [Fact]
    public void A_refused_operation_gets_a_fault_naming_it_and_the_others_are_served()
    {
        var fault = Assert.Throws<FaultException>(() => Run((_, _) => null, shapes => shapes.UploadXml(new UploadRequest()), out var seen));

        Assert.Contains("UploadXml", fault.Reason.ToString());
        Assert.Contains("not supported", fault.Reason.ToString());
        Assert.Equal(SoapReplies.NotSupportedCode, fault.Code.SubCode?.Name);
        Assert.Equal(4, Run((_, _) => 4L, shapes => shapes.Measure(new MemoryStream([1])), out _));
    }
}
