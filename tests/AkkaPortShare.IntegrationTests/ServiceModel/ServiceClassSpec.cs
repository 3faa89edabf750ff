using System.Runtime.Serialization;
using System.ServiceModel;
using System.ServiceModel.Channels;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

// The client side's own copy of the sample's ICalculator, as svcutil would generate it.
[ServiceContract(Namespace = "urn:akkaportshare:samples", SessionMode = SessionMode.Required)]
public interface ICalculator
{
    [OperationContract] double Add(double value);
    [OperationContract] [FaultContract(typeof(CalculatorFault))] double Divide(double by);
    [OperationContract] Task<string> DescribeAsync();
    [OperationContract] double Total();
    [OperationContract] void Fail();
}

[ServiceContract(Namespace = "urn:akkaportshare:samples")]
public interface IJournal
{
    [OperationContract(IsOneWay = true)] void Write(string book, string entry);
}

[ServiceContract(Namespace = "urn:akkaportshare:samples")]
public interface IJournalReader
{
    [OperationContract] string[] Read(string book);
}

[DataContract(Namespace = "urn:akkaportshare:samples")]
public sealed class CalculatorFault
{
    [DataMember] public string Operation { get; set; } = "";
    [DataMember] public string Problem { get; set; } = "";
}

/// <summary>A router and a worker serving the sample's CalculatorService class with ServeService.</summary>
public sealed class ServiceClassFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();
    public Uri Calculator => new(Host.Via("calc/"));
    public Uri Journal => new(Host.Via("journal/"));
    public Uri JournalReader => new(Host.Via("journal/reader/"));

    public async Task InitializeAsync()
    {
        await Host.StartRouterAsync();
        await Host.StartWorkerAsync("worker-C",
            ["--calculator-address", Host.Address("calc/"), "--journal-address", Host.Address("journal/")],
            "calc/", "journal/", "journal/reader/");
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// A plain WCF service class served unchanged (ServeService), called by the real WCF client through the router:
/// one instance per session (WCF's default on net.tcp), typed faults, hidden internal errors.
/// </summary>
public sealed class ServiceClassSpec(ServiceClassFixture fixture) : IClassFixture<ServiceClassFixture>
{
    private ChannelFactory<ICalculator> Factory(bool reliable = false) =>
        new(new NetTcpBinding(SecurityMode.None, reliable)
        {
            SendTimeout = TimeSpan.FromSeconds(30),
            ReceiveTimeout = TimeSpan.FromSeconds(30),
            OpenTimeout = TimeSpan.FromSeconds(30),
        }, new EndpointAddress(fixture.Calculator));

    [Fact]
    public async Task Each_session_has_its_own_instance_of_the_service_class()
    {
        using var factory = Factory();
        var first = factory.CreateChannel();
        var second = factory.CreateChannel();

        Assert.Equal(2, first.Add(2));
        Assert.Equal(5, first.Add(3));
        Assert.Equal(10, second.Add(10));
        Assert.Equal(5, first.Total());
        Assert.Equal("total=10", await second.DescribeAsync());

        ((IClientChannel)first).Close();
        ((IClientChannel)second).Close();

        // A new session starts from a new instance.
        var third = factory.CreateChannel();
        Assert.Equal(0, third.Total());
        ((IClientChannel)third).Close();
    }

    [Fact]
    public void A_reliable_session_keeps_one_instance_for_the_whole_session()
    {
        using var factory = Factory(reliable: true);
        var calculator = factory.CreateChannel();

        Assert.Equal(1, calculator.Add(1));
        Assert.Equal(3, calculator.Add(2));
        Assert.Equal(3, calculator.Total());
        ((IClientChannel)calculator).Close();
    }

    [Fact]
    public void A_FaultException_of_the_service_reaches_the_client_typed_and_the_session_goes_on()
    {
        using var factory = Factory();
        var calculator = factory.CreateChannel();
        calculator.Add(8);

        var fault = Assert.Throws<FaultException<CalculatorFault>>(() => calculator.Divide(0));

        Assert.Equal(("Divide", "division by zero"), (fault.Detail.Operation, fault.Detail.Problem));
        Assert.Equal("Cannot divide by zero.", fault.Reason.ToString());
        Assert.Equal("DivideByZero", fault.Code.SubCode?.Name);
        Assert.Equal(4, calculator.Divide(2));
        ((IClientChannel)calculator).Close();
    }

    [Fact]
    public void Another_exception_reaches_the_client_as_WCFs_internal_error_without_its_text()
    {
        using var factory = Factory();
        var calculator = factory.CreateChannel();

        var fault = Assert.Throws<FaultException>(() => calculator.Fail());

        Assert.StartsWith("The server was unable to process the request due to an internal error.", fault.Reason.ToString());
        Assert.DoesNotContain("internal state", fault.Reason.ToString());
        Assert.Equal("InternalServiceFault", fault.Code.SubCode?.Name);
        ((IClientChannel)calculator).Abort();
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public void A_reliable_session_of_a_one_way_contract_delivers_everything_and_closes(bool wsrm11, bool ordered)
    {
        // The client has nothing to receive, so it offers no sequence: the service takes the session input only.
        var reliable = new ReliableSessionBindingElement
        {
            Ordered = ordered,
            ReliableMessagingVersion = wsrm11 ? ReliableMessagingVersion.WSReliableMessaging11 : ReliableMessagingVersion.WSReliableMessagingFebruary2005,
        };
        var binding = new CustomBinding(reliable, new BinaryMessageEncodingBindingElement(), new TcpTransportBindingElement())
        {
            OpenTimeout = TimeSpan.FromSeconds(30), SendTimeout = TimeSpan.FromSeconds(30), CloseTimeout = TimeSpan.FromSeconds(30),
        };
        var book = $"book-{Guid.NewGuid():N}";
        using (var factory = new ChannelFactory<IJournal>(binding, new EndpointAddress(fixture.Journal)))
        {
            var journal = factory.CreateChannel();
            for (var i = 1; i <= 25; i++) journal.Write(book, $"entry {i}");
            ((IClientChannel)journal).Close(); // returns once every message is acknowledged and the session has ended
        }

        using var readers = new ChannelFactory<IJournalReader>(new NetTcpBinding(SecurityMode.None), new EndpointAddress(fixture.JournalReader));
        var reader = readers.CreateChannel();
        var entries = reader.Read(book);
        ((IClientChannel)reader).Close();
        Assert.Equal(25, entries.Length);
        if (ordered) Assert.Equal(Enumerable.Range(1, 25).Select(i => $"entry {i}"), entries);
        else Assert.Equal(Enumerable.Range(1, 25).Select(i => $"entry {i}").Order(), entries.Order());
    }
}
