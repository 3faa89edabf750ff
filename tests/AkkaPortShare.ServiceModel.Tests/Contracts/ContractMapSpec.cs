using AkkaPortShare.Samples.Echo;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Tests.TestSupport;

namespace AkkaPortShare.ServiceModel.Tests.Contracts;

/// <summary>
/// A contract as WCF's ContractDescription describes it: the actions, wrappers and parts a WCF client uses.
/// No actors here, so plain xunit.
/// </summary>
public sealed class ContractMapSpec
{
    private const string Samples = "urn:akkaportshare:samples";

    private static OperationMap Operation(ContractMap map, string action)
    {
        Assert.True(map.TryGetOperation(action, out var operation), $"no operation has action {action}");
        return operation!;
    }

    [Fact]
    public void ContractMap_must_name_the_contract_as_WCF_does()
    {
        Assert.Equal("IEchoService", ContractMap.For(typeof(IEchoService)).ContractName);
        Assert.Equal("IEchoDuplexService", ContractMap.For(typeof(IEchoDuplexService)).ContractName);
    }

    [Fact]
    public void ContractMap_must_map_a_request_reply_operation_by_its_action()
    {
        var echo = Operation(ContractMap.For(typeof(IEchoService)), $"{Samples}/IEchoService/Echo");

        Assert.Equal("Echo", echo.Name);
        Assert.Equal($"{Samples}/IEchoService/Echo", echo.Action);
        Assert.False(echo.IsOneWay);
        Assert.Equal("Echo", echo.WrapperName);
        Assert.Equal(Samples, echo.WrapperNamespace);
        var part = Assert.Single(echo.Parts);
        Assert.Equal(("text", Samples, typeof(string)), (part.Name, part.Namespace, part.Type));
        Assert.Equal($"{Samples}/IEchoService/EchoResponse", echo.ReplyAction);
        Assert.Equal("EchoResponse", echo.ReplyWrapperName);
        Assert.Equal(Samples, echo.ReplyWrapperNamespace);
        Assert.NotNull(echo.Result);
        Assert.Equal(("EchoResult", Samples, typeof(string)), (echo.Result!.Name, echo.Result.Namespace, echo.Result.Type));
        Assert.Empty(echo.Faults);
    }

    [Fact]
    public void ContractMap_must_map_every_operation_of_the_sample()
    {
        var map = ContractMap.For(typeof(IEchoService));
        foreach (var name in new[] { "Echo", "Identity", "Post", "PostedCount", "Fail" })
            Assert.Equal(name, Operation(map, $"{Samples}/IEchoService/{name}").Name);

        var identity = Operation(map, $"{Samples}/IEchoService/Identity");
        Assert.Empty(identity.Parts);
        Assert.Equal("IdentityResult", identity.Result!.Name);

        var count = Operation(map, $"{Samples}/IEchoService/PostedCount");
        Assert.Equal(typeof(int), count.Result!.Type);
        Assert.Equal("PostedCountResponse", count.ReplyWrapperName);
    }

    [Fact]
    public void ContractMap_must_map_a_one_way_operation_without_a_reply()
    {
        var post = Operation(ContractMap.For(typeof(IEchoService)), $"{Samples}/IEchoService/Post");

        Assert.True(post.IsOneWay);
        Assert.Equal("Post", post.WrapperName);
        Assert.Equal("text", Assert.Single(post.Parts).Name);
        Assert.Null(post.ReplyAction);
        Assert.Null(post.ReplyWrapperName);
        Assert.Null(post.Result);
    }

    [Fact]
    public void ContractMap_must_map_fault_contracts_with_their_actions()
    {
        var fail = Operation(ContractMap.For(typeof(IEchoService)), $"{Samples}/IEchoService/Fail");

        var fault = Assert.Single(fail.Faults);
        Assert.Equal(typeof(EchoFault), fault.DetailType);
        Assert.Equal($"{Samples}/IEchoService/FailEchoFaultFault", fault.Action);
        Assert.False(fail.IsOneWay);
    }

    [Fact]
    public void ContractMap_must_map_a_void_request_reply_operation_with_an_empty_reply()
    {
        var reset = Operation(ContractMap.For(typeof(IOrders)), $"{IOrders.Ns}/IOrders/Reset");

        Assert.False(reset.IsOneWay);
        Assert.Equal($"{IOrders.Ns}/IOrders/ResetResponse", reset.ReplyAction);
        Assert.Equal("ResetResponse", reset.ReplyWrapperName);
        Assert.Null(reset.Result);
    }

    [Fact]
    public void ContractMap_must_keep_the_parameter_order_and_types()
    {
        var map = ContractMap.For(typeof(IOrders));
        var add = Operation(map, $"{IOrders.Ns}/IOrders/Add");
        Assert.Equal(["a", "b"], add.Parts.Select(p => p.Name));
        Assert.All(add.Parts, p => Assert.Equal(typeof(int), p.Type));

        var place = Operation(map, $"{IOrders.Ns}/IOrders/Place");
        Assert.Equal([("order", typeof(Order)), ("note", typeof(string))], place.Parts.Select(p => (p.Name, p.Type)));
        Assert.Equal(typeof(Order), place.Result!.Type);
    }

    [Fact]
    public void ContractMap_must_find_callback_operations_by_name_and_not_by_action()
    {
        var map = ContractMap.For(typeof(IEchoDuplexService));

        Assert.Equal("EchoWithCallback", Operation(map, $"{Samples}/IEchoDuplexService/EchoWithCallback").Name);
        Assert.True(map.TryGetCallback("Echoed", out var echoed));
        Assert.Equal($"{Samples}/IEchoDuplexService/Echoed", echoed!.Action);
        Assert.True(echoed.IsOneWay);
        Assert.Equal("Echoed", echoed.WrapperName);
        Assert.Equal(("text", typeof(string)), (Assert.Single(echoed.Parts).Name, echoed.Parts[0].Type));

        // Callbacks go out only: a client message with the callback's action is not an operation of the service.
        Assert.False(map.TryGetOperation($"{Samples}/IEchoDuplexService/Echoed", out _));
        // And service operations are not callbacks.
        Assert.False(map.TryGetCallback("EchoWithCallback", out _));
    }

    [Fact]
    public void ContractMap_must_map_a_request_reply_callback_with_its_reply()
    {
        var map = ContractMap.For(typeof(IApprovals));

        Assert.True(map.TryGetCallback("Confirm", out var confirm));
        Assert.False(confirm!.IsOneWay);
        Assert.Equal($"{IOrders.Ns}/IApprovals/Confirm", confirm.Action);
        Assert.Equal($"{IOrders.Ns}/IApprovals/ConfirmResponse", confirm.ReplyAction);
        Assert.Equal("ConfirmResponse", confirm.ReplyWrapperName);
        Assert.Equal("ConfirmResult", confirm.Result!.Name);

        Assert.True(map.TryGetCallback("Progress", out var progress));
        Assert.True(progress!.IsOneWay);
    }

    [Fact]
    public void ContractMap_must_not_know_actions_or_callbacks_of_other_contracts()
    {
        var map = ContractMap.For(typeof(IEchoService));

        Assert.False(map.TryGetOperation($"{Samples}/IEchoDuplexService/EchoWithCallback", out _));
        Assert.False(map.TryGetOperation("Echo", out _));
        Assert.False(map.TryGetOperation("", out _));
        Assert.False(map.TryGetCallback("Echoed", out _));
    }

    [Fact]
    public void ContractMap_must_map_a_message_contract_operation_with_its_headers_and_body_members()
    {
        var upload = Operation(ContractMap.For(typeof(IShapes)), $"{IShapes.Ns}/IShapes/Upload");

        Assert.Equal((BodyShape.MessageContract, BodyShape.MessageContract), (upload.RequestShape, upload.ReplyShape));
        var request = upload.RequestContract!;
        Assert.Equal((typeof(UploadRequest), "Upload"), (request.Type, request.WrapperName));
        Assert.Equal([("FileName", false), ("Version", true)], request.Headers.Select(h => (h.Part.Name, h.MustUnderstand)));
        Assert.Equal(["Owner", "Content"], request.Body.Select(b => b.Part.Name));
        // IsWrapped = false: the body members go straight into the body.
        Assert.Null(upload.ReplyContract!.WrapperName);
        Assert.Equal("Receipt", Assert.Single(upload.ReplyContract.Headers).Part.Name);
    }

    [Fact]
    public void ContractMap_must_map_an_untyped_message_operation()
    {
        var raw = Operation(ContractMap.For(typeof(IShapes)), $"{IShapes.Ns}/raw");

        Assert.Equal((BodyShape.Untyped, BodyShape.Untyped), (raw.RequestShape, raw.ReplyShape));
        Assert.Equal($"{IShapes.Ns}/raw-reply", raw.ReplyAction);
        Assert.Empty(raw.Parts);
        Assert.Null(raw.Result);
    }

    [Fact]
    public void ContractMap_must_give_the_catch_all_operation_every_action_no_other_has()
    {
        var map = ContractMap.For(typeof(ICatchAll));

        Assert.Equal("Known", Operation(map, $"{IShapes.Ns}/ICatchAll/Known").Name);
        Assert.Equal("Any", Operation(map, "urn:anything/else").Name);
        Assert.Equal("Any", Operation(map, "").Name);
        Assert.Equal("Process", Operation(ContractMap.For(typeof(IUntypedService)), "urn:whatever").Name);
    }

    [Fact]
    public void ContractMap_must_map_an_XmlSerializerFormat_operation_to_the_XmlSerializer()
    {
        var map = ContractMap.For(typeof(IShapes));
        var place = Operation(map, $"{IShapes.Ns}/IShapes/PlaceXml");

        Assert.Equal((BodyShape.XmlWrapped, BodyShape.XmlWrapped), (place.RequestShape, place.ReplyShape));
        Assert.NotNull(place.RequestXml);
        Assert.NotNull(place.ReplyXml);
        // The other operations of the contract keep the DataContractSerializer.
        var grow = Operation(map, $"{IShapes.Ns}/IShapes/Grow");
        Assert.Equal(BodyShape.Wrapped, grow.RequestShape);
        Assert.Null(grow.RequestXml);
    }

    [Fact]
    public void ContractMap_must_give_the_parts_the_contracts_service_known_types()
    {
        var grow = Operation(ContractMap.For(typeof(IShapes)), $"{IShapes.Ns}/IShapes/Grow");

        Assert.Contains(typeof(Circle), grow.Parts[0].Serializer.KnownTypes);
        Assert.Contains(typeof(Circle), grow.Result!.Serializer.KnownTypes);
    }

    [Fact]
    public void ContractMap_must_map_out_and_ref_parameters_to_the_reply_after_the_result()
    {
        var divide = Operation(ContractMap.For(typeof(IShapes)), $"{IShapes.Ns}/IShapes/Divide");

        // Request: the in and ref parameters; reply: the result, then the ref and out parameters as declared.
        Assert.Equal(["a", "b"], divide.Parts.Select(p => p.Name));
        Assert.Equal("DivideResult", divide.Result!.Name);
        Assert.Equal(["b", "remainder"], divide.OutputParts.Select(p => p.Name));
        Assert.Equal(3, divide.Arguments!.Value.Count);
        Assert.Equal([0, 1], divide.Arguments.Value.Positions);
        Assert.Null(Operation(ContractMap.For(typeof(IOrders)), $"{IOrders.Ns}/IOrders/Add").Arguments);
        Assert.Empty(ContractMap.For(typeof(IOutParameters)).Unsupported);
    }

    [Fact]
    public void ContractMap_must_refuse_an_operation_it_cannot_serve_alone_and_say_why()
    {
        var map = ContractMap.For(typeof(IShapes));

        var refused = Assert.Single(map.Unsupported);
        Assert.Equal(("UploadXml", $"{IShapes.Ns}/IShapes/UploadXml", false), (refused.Name, refused.Action, refused.IsCallback));
        Assert.Contains("[MessageContract] of an [XmlSerializerFormat] operation is not supported", refused.Reason);
        Assert.False(map.TryGetOperation(refused.Action, out _));
        Assert.True(map.TryGetUnsupported(refused.Action, out var found));
        Assert.Same(refused, found);

        // The contract's other operations are served.
        Assert.True(map.TryGetOperation($"{IShapes.Ns}/IShapes/Measure", out _));
        Assert.False(map.TryGetUnsupported($"{IShapes.Ns}/IShapes/Measure", out _));
    }

    [Fact]
    public void ContractMap_must_refuse_a_callback_it_cannot_send_and_keep_the_others()
    {
        var map = ContractMap.For(typeof(IUntypedCallbacks));

        var refused = Assert.Single(map.Unsupported);
        Assert.Equal(("Raw", true), (refused.Name, refused.IsCallback));
        Assert.False(map.TryGetCallback("Raw", out _));
        Assert.True(map.TryGetCallback("Note", out _));
        Assert.True(map.TryGetOperation($"{IShapes.Ns}/IUntypedCallbacks/Start", out _));
    }

    [Fact]
    public void ContractMap_must_serve_every_operation_of_a_contract_it_fully_supports()
    {
        Assert.Empty(ContractMap.For(typeof(IEchoService)).Unsupported);
        Assert.Empty(ContractMap.For(typeof(IApprovals)).Unsupported);
        Assert.Empty(ContractMap.For(typeof(IMessageContractService)).Unsupported);
    }

    [Fact]
    public void ContractMap_must_map_task_based_operations_like_synchronous_ones()
    {
        var sync = ContractMap.For(typeof(IOrders));
        var async = ContractMap.For(typeof(IOrdersAsync));

        var add = Operation(async, $"{IOrders.Ns}/IOrders/Add");
        Assert.Equal("Add", add.Name);
        Assert.Equal(Operation(sync, $"{IOrders.Ns}/IOrders/Add").ReplyAction, add.ReplyAction);
        Assert.Equal(["a", "b"], add.Parts.Select(p => p.Name));
        Assert.Equal(("AddResult", typeof(int)), (add.Result!.Name, add.Result.Type));

        var reset = Operation(async, $"{IOrders.Ns}/IOrders/Reset");
        Assert.Equal("ResetResponse", reset.ReplyWrapperName);
        Assert.Null(reset.Result);
    }

    [Fact]
    public void ContractMap_must_use_the_names_and_actions_set_on_the_attributes()
    {
        var sum = Operation(ContractMap.For(typeof(IRenamed)), "urn:custom/sum");

        // The implementation actor sees the operation's WCF name, not the method's.
        Assert.Equal("Sum", sum.Name);
        Assert.Equal("Sum", sum.WrapperName);
        Assert.Equal(["left", "b"], sum.Parts.Select(p => p.Name));
        Assert.Equal("urn:custom/sum-reply", sum.ReplyAction);
        Assert.Equal("SumResponse", sum.ReplyWrapperName);
        Assert.Equal("total", sum.Result!.Name);
    }

}
