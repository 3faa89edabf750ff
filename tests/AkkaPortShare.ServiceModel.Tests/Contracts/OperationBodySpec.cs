using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using AkkaPortShare.Samples.Echo;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Tests.TestSupport;

namespace AkkaPortShare.ServiceModel.Tests.Contracts;

/// <summary>
/// Wrapped bodies: what <see cref="OperationBody"/> writes it reads back, through WCF's binary encoder; and the
/// format is WCF's own, shown with WCF's client (its proxy and formatter) on an in-memory transport.
/// </summary>
public sealed class OperationBodySpec
{
    private const string Samples = "urn:akkaportshare:samples";
    private static readonly MessageVersion Version = MessageVersion.Soap12WSAddressing10;
    private static readonly ContractMap Echo = ContractMap.For(typeof(IEchoService));
    private static readonly ContractMap Orders = ContractMap.For(typeof(IOrders));

    private static OperationMap Op(ContractMap map, string name)
    {
        var ns = map == Echo ? Samples : IOrders.Ns;
        Assert.True(map.TryGetOperation($"{ns}/{map.ContractName}/{name}", out var operation));
        return operation!;
    }

    /// <summary>Encodes and decodes with WCF's binary session encoder (one per side, as on a connection).</summary>
    private static Message OverTheWire(Message message)
    {
        var factory = new BinaryMessageEncodingBindingElement().CreateMessageEncoderFactory();
        var (writer, reader) = (factory.CreateSessionEncoder(), factory.CreateSessionEncoder());
        var buffers = BufferManager.CreateBufferManager(0, int.MaxValue);
        using (message)
        {
            var bytes = writer.WriteMessage(message, int.MaxValue, buffers).ToArray();
            return reader.ReadMessage(new ArraySegment<byte>(bytes), buffers, reader.ContentType);
        }
    }

    private static object?[] RoundTripRequest(OperationMap operation, params object?[] arguments)
    {
        using var message = OverTheWire(Message.CreateMessage(Version, operation.Action, OperationBody.Request(operation, arguments)));
        Assert.Equal(operation.Action, message.Headers.Action);
        return OperationBody.ReadArguments(message.GetReaderAtBodyContents(), operation.WrapperName, operation.WrapperNamespace,
            operation.Parts);
    }

    private static object? RoundTripReply(OperationMap operation, object? result)
    {
        using var message = OverTheWire(Message.CreateMessage(Version, operation.ReplyAction, OperationBody.Reply(operation, result)));
        return OperationBody.ReadResult(message.GetReaderAtBodyContents(), operation);
    }

    private static object?[] ReadArguments(OperationMap operation, string bodyXml)
    {
        using var message = Message.CreateMessage(Version, operation.Action, XmlReader.Create(new StringReader(bodyXml)));
        return OperationBody.ReadArguments(message.GetReaderAtBodyContents(), operation.WrapperName, operation.WrapperNamespace,
            operation.Parts);
    }

    private static string BodyXml(Message message)
    {
        using (message) return message.GetReaderAtBodyContents().ReadOuterXml();
    }

    private static Order SampleOrder() => new() { Id = 7, Item = "widget", Price = 12.5m, Tags = ["red", "large"] };

    private static void AssertOrder(Order expected, object? actual)
    {
        var order = Assert.IsType<Order>(actual);
        Assert.Equal((expected.Id, expected.Item, expected.Price), (order.Id, order.Item, order.Price));
        Assert.Equal(expected.Tags, order.Tags);
    }

    [Fact]
    public void OperationBody_must_write_the_wrapped_request_WCF_expects()
    {
        var xml = BodyXml(Message.CreateMessage(Version, "a", OperationBody.Request(Op(Echo, "Echo"), ["hi"])));
        Assert.Equal($"""<Echo xmlns="{Samples}"><text>hi</text></Echo>""", xml);
    }

    [Fact]
    public void OperationBody_must_read_back_a_string_argument()
    {
        Assert.Equal(["hello"], RoundTripRequest(Op(Echo, "Echo"), "hello"));
        Assert.Equal([""], RoundTripRequest(Op(Echo, "Echo"), ""));
    }

    [Fact]
    public void OperationBody_must_read_back_int_arguments()
    {
        Assert.Equal([2, -40], RoundTripRequest(Op(Orders, "Add"), 2, -40));
    }

    [Fact]
    public void OperationBody_must_read_back_a_data_contract_and_a_null()
    {
        var arguments = RoundTripRequest(Op(Orders, "Place"), SampleOrder(), null);

        Assert.Equal(2, arguments.Length);
        AssertOrder(SampleOrder(), arguments[0]);
        Assert.Null(arguments[1]);
    }

    [Fact]
    public void OperationBody_must_read_back_a_null_data_contract()
    {
        Assert.Equal([null, "note"], RoundTripRequest(Op(Orders, "Place"), null, "note"));
    }

    [Fact]
    public void OperationBody_must_write_null_for_arguments_not_given()
    {
        Assert.Equal([null, null], RoundTripRequest(Op(Orders, "Place")));
        // Null for a value-type part is written as xsi:nil, which no reader (WCF's included) accepts as an int:
        // the caller must pass every value-type argument (e.g. InvokeCallback of a callback taking an int).
        Assert.ThrowsAny<System.Runtime.Serialization.SerializationException>(() => RoundTripRequest(Op(Orders, "Add"), 5));
    }

    [Fact]
    public void OperationBody_must_read_an_operation_without_parameters()
    {
        Assert.Empty(RoundTripRequest(Op(Echo, "Identity")));
        Assert.Equal($"""<Identity xmlns="{Samples}"></Identity>""",
            BodyXml(Message.CreateMessage(Version, "a", OperationBody.Request(Op(Echo, "Identity"), []))));
    }

    [Fact]
    public void OperationBody_must_leave_a_missing_part_null()
    {
        Assert.Equal([null, "only the note"],
            ReadArguments(Op(Orders, "Place"), $"""<Place xmlns="{IOrders.Ns}"><note>only the note</note></Place>"""));
        // A missing value-type part also arrives as null (not 0): the implementation must not unbox it blindly.
        Assert.Equal([null, 2], ReadArguments(Op(Orders, "Add"), $"""<Add xmlns="{IOrders.Ns}"><b>2</b></Add>"""));
    }

    [Fact]
    public void OperationBody_must_read_an_empty_wrapper_as_all_missing()
    {
        Assert.Equal([null, null], ReadArguments(Op(Orders, "Add"), $"""<Add xmlns="{IOrders.Ns}" />"""));
    }

    [Fact]
    public void OperationBody_must_refuse_a_wrapper_of_another_operation()
    {
        Assert.Throws<XmlException>(() =>
            ReadArguments(Op(Orders, "Add"), $"""<Divide xmlns="{IOrders.Ns}"><a>1</a><b>2</b></Divide>"""));
        Assert.Throws<XmlException>(() => ReadArguments(Op(Orders, "Add"), """<Add xmlns="urn:other"><a>1</a></Add>"""));
    }

    [Fact]
    public void OperationBody_must_write_the_wrapped_reply_WCF_expects()
    {
        var echo = Op(Echo, "Echo");
        Assert.Equal($"""<EchoResponse xmlns="{Samples}"><EchoResult>hi</EchoResult></EchoResponse>""",
            BodyXml(Message.CreateMessage(Version, echo.ReplyAction, OperationBody.Reply(echo, "hi"))));
        var reset = Op(Orders, "Reset");
        Assert.Equal($"""<ResetResponse xmlns="{IOrders.Ns}"></ResetResponse>""",
            BodyXml(Message.CreateMessage(Version, reset.ReplyAction, OperationBody.Reply(reset, null))));
    }

    [Fact]
    public void OperationBody_must_read_back_replies()
    {
        Assert.Equal("hi", RoundTripReply(Op(Echo, "Echo"), "hi"));
        Assert.Null(RoundTripReply(Op(Echo, "Echo"), null));
        Assert.Equal(42, RoundTripReply(Op(Echo, "PostedCount"), 42));
        AssertOrder(SampleOrder(), RoundTripReply(Op(Orders, "Place"), SampleOrder()));
        Assert.Null(RoundTripReply(Op(Orders, "Reset"), null));
    }

    [Fact]
    public void OperationBody_must_read_a_reply_whose_result_is_missing_as_null()
    {
        var echo = Op(Echo, "Echo");
        using var message = Message.CreateMessage(Version, echo.ReplyAction,
            XmlReader.Create(new StringReader($"""<EchoResponse xmlns="{Samples}" />""")));
        Assert.Null(OperationBody.ReadResult(message.GetReaderAtBodyContents(), echo));
    }

    // ---- WCF's own client on an in-memory transport: its formatter writes the requests and reads the replies ----

    /// <summary>Serves <typeparamref name="TContract"/> with OperationBody, the way SoapSessionActor does.</summary>
    private static Func<Message, Message?> Serve<TContract>(ContractMap map, Func<string, object?[], object?> implementation,
        List<(string Operation, object?[] Arguments)>? seen = null) => request =>
    {
        using (request)
        {
            Assert.True(map.TryGetOperation(request.Headers.Action, out var operation), $"unknown action {request.Headers.Action}");
            var arguments = OperationBody.ReadArguments(request.GetReaderAtBodyContents(), operation!.WrapperName,
                operation.WrapperNamespace, operation.Parts);
            seen?.Add((operation.Name, arguments));
            var result = implementation(operation.Name, arguments);
            return operation.IsOneWay ? null : Message.CreateMessage(request.Version, operation.ReplyAction, OperationBody.Reply(operation, result));
        }
    };

    [Fact]
    public void OperationBody_must_read_what_a_WCF_client_writes_and_write_what_it_reads()
    {
        var seen = new List<(string, object?[])>();
        var (factory, echo) = InMemoryWcfClient.Create<IEchoService>(Serve<IEchoService>(Echo, (op, args) => op switch
        {
            "Echo" => args[0],
            "Identity" => "worker-A",
            "PostedCount" => 3,
            _ => null,
        }, seen));
        try
        {
            Assert.Equal("hello, wcf", echo.Echo("hello, wcf"));
            Assert.Null(echo.Echo(null!));
            Assert.Equal("worker-A", echo.Identity());
            Assert.Equal(3, echo.PostedCount());
            Assert.Equal(
                [("Echo", ["hello, wcf"]), ("Echo", [null]), ("Identity", []), ("PostedCount", [])],
                seen.Select(s => (s.Item1, (object?[])s.Item2)));
        }
        finally
        {
            factory.Abort();
        }
    }

    [Fact]
    public void OperationBody_must_carry_data_contracts_and_several_parameters_between_it_and_a_WCF_client()
    {
        var seen = new List<(string, object?[])>();
        var (factory, orders) = InMemoryWcfClient.Create<IOrders>(Serve<IOrders>(Orders, (op, args) => op switch
        {
            "Add" => (int)args[0]! + (int)args[1]!,
            "Place" => new Order { Id = ((Order)args[0]!).Id + 1, Item = (string?)args[1] ?? "no note", Tags = ["placed"] },
            _ => null,
        }, seen));
        try
        {
            Assert.Equal(-38, orders.Add(2, -40));
            var placed = orders.Place(SampleOrder(), null);
            Assert.Equal((8, "no note", 0m), (placed.Id, placed.Item, placed.Price));
            Assert.Equal(["placed"], placed.Tags);
            orders.Reset();

            Assert.Equal(["Add", "Place", "Reset"], seen.Select(s => s.Item1));
            Assert.Equal([2, -40], seen[0].Item2);
            AssertOrder(SampleOrder(), seen[1].Item2[0]);
            Assert.Null(seen[1].Item2[1]);
        }
        finally
        {
            factory.Abort();
        }
    }
}
