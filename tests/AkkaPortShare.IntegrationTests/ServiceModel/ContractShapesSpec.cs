using System.Runtime.Serialization;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml.Serialization;
using AkkaPortShare.IntegrationTests.Harness;
using AkkaPortShare.TestSupport;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

// The client side's own copy of the sample's IShapesService, as svcutil would generate it.
[ServiceContract(Namespace = Ns)]
[ServiceKnownType(typeof(Dog))]
public interface IShapesService
{
    public const string Ns = "urn:akkaportshare:samples:shapes";

    [OperationContract] ReceiptMessage Store(DocumentMessage document);
    [OperationContract] FileReceipt Upload(FileMessage file);
    [OperationContract(Action = Ns + "/raw", ReplyAction = Ns + "/raw-reply")] Message Raw(Message request);
    [OperationContract] [XmlSerializerFormat] Invoice Bill(Invoice invoice, int copies);
    [OperationContract] Animal Adopt(Animal animal);
    [OperationContract] long Measure(Stream data);
    [OperationContract] int Divide(int a, ref int b, out int remainder);
    [OperationContract] [XmlSerializerFormat] ReceiptMessage StoreXml(DocumentMessage document);
}

/// <summary>An operation the service does not declare: its catch-all (action "*") takes it.</summary>
[ServiceContract(Namespace = IShapesService.Ns, Name = "IShapesService")]
public interface IShapesElsewhere
{
    [OperationContract(Action = "urn:elsewhere/ping", ReplyAction = "*")] Message Ping(Message request);
}

/// <summary>A client whose copy of the contract is out of date: its Measure sends text where the service reads bytes.</summary>
[ServiceContract(Namespace = IShapesService.Ns, Name = "IShapesService")]
[ServiceKnownType(typeof(Dog))]
public interface IShapesOutOfDate
{
    [OperationContract] long Measure(string data);
    [OperationContract] Animal Adopt(Animal animal);
}

[MessageContract(WrapperNamespace = IShapesService.Ns)]
public sealed class DocumentMessage
{
    [MessageHeader(Namespace = IShapesService.Ns)] public string Tenant { get; set; } = "";
    [MessageBodyMember(Namespace = IShapesService.Ns, Order = 1)] public string Name { get; set; } = "";
    [MessageBodyMember(Namespace = IShapesService.Ns, Order = 2)] public byte[] Content { get; set; } = [];
}

[MessageContract(WrapperNamespace = IShapesService.Ns)]
public sealed class ReceiptMessage
{
    [MessageHeader(Namespace = IShapesService.Ns)] public string Receipt { get; set; } = "";
    [MessageBodyMember(Namespace = IShapesService.Ns)] public int Length { get; set; }
}

[MessageContract(WrapperNamespace = IShapesService.Ns)]
public sealed class FileMessage
{
    [MessageHeader(Namespace = IShapesService.Ns)] public string FileName { get; set; } = "";
    [MessageBodyMember(Namespace = IShapesService.Ns)] public Stream Data { get; set; } = Stream.Null;
}

[MessageContract(WrapperNamespace = IShapesService.Ns)]
public sealed class FileReceipt
{
    [MessageHeader(Namespace = IShapesService.Ns)] public string FileName { get; set; } = "";
    [MessageBodyMember(Namespace = IShapesService.Ns)] public long Length { get; set; }
}

[XmlType(Namespace = IShapesService.Ns)]
public sealed class Invoice
{
    [XmlAttribute] public string Number { get; set; } = "";
    public string Customer { get; set; } = "";
    public decimal Total { get; set; }
}

[DataContract(Namespace = IShapesService.Ns)]
public class Animal
{
    [DataMember] public string Name { get; set; } = "";
}

[DataContract(Namespace = IShapesService.Ns)]
public sealed class Dog : Animal
{
    [DataMember] public string Breed { get; set; } = "";
}

/// <summary>A router and a worker serving the sample's ShapesService class with ServeService.</summary>
public sealed class ContractShapesFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();
    public Uri Shapes => new(Host.Via("shapes/"));
    public ManagedProcess Worker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Host.StartRouterAsync();
        // Room for the streamed upload (a streamed message is bounded by max-message-size too).
        var limits = Host.WriteConfig("akka-port-share.worker.max-message-size = 16m");
        Worker = await Host.StartWorkerAsync("worker-S", ["--shapes-address", Host.Address("shapes/"), "--config", limits], "shapes/");
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Every contract shape the worker serves, with the real WCF client through the router: a message contract,
/// untyped Message operations (and the catch-all), [XmlSerializerFormat], a known type, a Stream parameter on a
/// buffered binding, out and ref parameters; and an operation it cannot serve (an XmlSerializer message contract),
/// refused alone with a fault that says so.
/// </summary>
public sealed class ContractShapesSpec(ContractShapesFixture fixture) : IClassFixture<ContractShapesFixture>
{
    private ChannelFactory<T> Factory<T>(TransferMode mode = TransferMode.Buffered) =>
        new(new NetTcpBinding(SecurityMode.None)
        {
            TransferMode = mode,
            MaxReceivedMessageSize = 64 * 1024 * 1024,
            SendTimeout = TimeSpan.FromSeconds(30),
            ReceiveTimeout = TimeSpan.FromSeconds(30),
            OpenTimeout = TimeSpan.FromSeconds(30),
        }, new EndpointAddress(fixture.Shapes));

    private T Call<T>(Func<IShapesService, T> call)
    {
        using var factory = Factory<IShapesService>();
        var shapes = factory.CreateChannel();
        var result = call(shapes);
        ((IClientChannel)shapes).Close();
        return result;
    }

    [Fact]
    public void A_message_contract_carries_its_header_and_body_both_ways() => fixture.Host.WithLogsOnFailure(() =>
    {
        var receipt = Call(s => s.Store(new DocumentMessage { Tenant = "acme", Name = "a.txt", Content = [1, 2, 3] }));

        Assert.Equal(("acme/a.txt", 3), (receipt.Receipt, receipt.Length));
    });

    [Fact]
    public void An_untyped_operation_answers_with_the_message_the_service_made() => fixture.Host.WithLogsOnFailure(() =>
    {
        var (action, body) = Call(s =>
        {
            using var reply = s.Raw(Message.CreateMessage(MessageVersion.Soap12WSAddressing10, IShapesService.Ns + "/raw", "hi"));
            return (reply.Headers.Action, reply.GetBody<string>());
        });

        Assert.Equal((IShapesService.Ns + "/raw-reply", "raw: hi"), (action, body));
    });

    [Fact]
    public void The_catch_all_operation_takes_an_action_no_other_has() => fixture.Host.WithLogsOnFailure(() =>
    {
        using var factory = Factory<IShapesElsewhere>();
        var channel = factory.CreateChannel();
        using var reply = channel.Ping(Message.CreateMessage(MessageVersion.Soap12WSAddressing10, "urn:elsewhere/ping", "x"));

        Assert.Equal(("urn:elsewhere/ping-reply", "any: urn:elsewhere/ping"), (reply.Headers.Action, reply.GetBody<string>()));
        ((IClientChannel)channel).Close();
    });

    [Fact]
    public void An_XmlSerializerFormat_operation_is_read_and_answered_with_the_XmlSerializer() => fixture.Host.WithLogsOnFailure(() =>
    {
        var invoice = Call(s => s.Bill(new Invoice { Number = "INV-7", Customer = "ann", Total = 12.5m }, 2));

        // With the DataContractSerializer the service would have read defaults, and the client read defaults back.
        Assert.Equal(("INV-7", "ann", 25m), (invoice.Number, invoice.Customer, invoice.Total));
    });

    [Fact]
    public void A_service_known_type_arrives_and_returns_as_itself() => fixture.Host.WithLogsOnFailure(() =>
    {
        var adopted = Call(s => s.Adopt(new Dog { Name = "rex", Breed = "collie" }));

        var dog = Assert.IsType<Dog>(adopted);
        Assert.Equal(("rex (adopted)", "collie"), (dog.Name, dog.Breed));
    });

    [Fact]
    public void A_Stream_parameter_on_a_buffered_binding_is_served_and_the_session_goes_on() => fixture.Host.WithLogsOnFailure(() =>
    {
        var lengths = Call(s => (s.Measure(new MemoryStream(new byte[40_000])), s.Measure(new MemoryStream([]))));

        Assert.Equal((40_000L, 0L), lengths);
    });

    [Theory]
    [InlineData(TransferMode.Buffered, 50_000)]
    [InlineData(TransferMode.Streamed, 5_000_000)]
    public void A_message_contract_with_a_stream_body_member_is_served(TransferMode mode, int length) => fixture.Host.WithLogsOnFailure(() =>
    {
        using var factory = Factory<IShapesService>(mode);
        var shapes = factory.CreateChannel();

        var receipt = shapes.Upload(new FileMessage { FileName = "big.bin", Data = new MemoryStream(new byte[length]) });
        // A Stream parameter the same way, and the session (or the next streamed exchange) goes on.
        var measured = shapes.Measure(new MemoryStream(new byte[length]));

        Assert.Equal(("big.bin", (long)length, (long)length), (receipt.FileName, receipt.Length, measured));
        ((IClientChannel)shapes).Close();
    });

    [Fact]
    public void An_argument_the_service_cannot_read_gets_a_fault_and_the_session_goes_on() => fixture.Host.WithLogsOnFailure(() =>
    {
        using var factory = Factory<IShapesOutOfDate>();
        var shapes = factory.CreateChannel();

        var fault = Assert.Throws<FaultException>(() => shapes.Measure("this is not base64!"));

        Assert.Contains("deserialize", fault.Reason.ToString());
        Assert.Equal("rex (adopted)", shapes.Adopt(new Dog { Name = "rex" }).Name);
        ((IClientChannel)shapes).Close();
    });

    [Fact]
    public void Out_and_ref_parameters_come_back_with_the_result() => fixture.Host.WithLogsOnFailure(() =>
    {
        var (quotient, b, remainder) = Call(s =>
        {
            var b = 2;
            var quotient = s.Divide(7, ref b, out var remainder);
            return (quotient, b, remainder);
        });

        Assert.Equal((3, 20, 1), (quotient, b, remainder));
    });

    [Fact]
    public async Task An_operation_the_worker_cannot_serve_is_refused_alone_with_a_fault_and_a_start_up_line()
    {
        await fixture.Worker.WaitForLineAsync(
            "Operation StoreXml of IShapesService is not served \\(.*\\[MessageContract\\] of an \\[XmlSerializerFormat\\] operation",
            TimeSpan.FromSeconds(10));
        using var factory = Factory<IShapesService>();
        var shapes = factory.CreateChannel();

        var fault = Assert.Throws<FaultException>(() => shapes.StoreXml(new DocumentMessage { Tenant = "t", Name = "n" }));

        Assert.Contains("The operation StoreXml is not supported", fault.Reason.ToString());
        Assert.Equal("OperationNotSupported", fault.Code.SubCode?.Name);
        // The session and the contract's other operations go on.
        Assert.Equal(3, shapes.Measure(new MemoryStream([1, 2, 3])));
        ((IClientChannel)shapes).Close();
    }
}
