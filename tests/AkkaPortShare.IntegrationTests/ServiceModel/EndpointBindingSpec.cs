using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Text;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

/// <summary>
/// One worker, several endpoints of one contract, each with its own binding settings in C# (the sample's
/// --wcf-endpoint, NetTcpEndpointOptions): WCF's ReceiveTimeout and MaxReceivedMessageSize apply per endpoint, and text
/// message encoding over TCP serves a CustomBinding(TextMessageEncoding, TcpTransport) client, with the real WCF client.
/// </summary>
public sealed class EndpointBindingFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();

    public Uri Short => new(Host.Via("bind/short/"));
    public Uri Default => new(Host.Via("bind/default/"));
    public Uri Text11 => new(Host.Via("bind/text11/"));
    public Uri Text12 => new(Host.Via("bind/text12/"));

    public async Task InitializeAsync()
    {
        await Host.StartRouterAsync();
        await Host.StartWorkerAsync("worker-binding",
        [
            "--wcf-endpoint", Host.Address("bind/short/"), "receive-timeout=5s,max-received-message-size=10000",
            "--wcf-address", Host.Address("bind/default/"),
            "--wcf-endpoint", Host.Address("bind/text11/"), "text=soap11",
            "--wcf-endpoint", Host.Address("bind/text12/"), "text=soap12",
        ], "bind/short/", "bind/default/", "bind/text11/", "bind/text12/");
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class EndpointBindingSpec(EndpointBindingFixture fixture) : IClassFixture<EndpointBindingFixture>
{
    private const int ClientQuota = 1024 * 1024; // the client is never what limits here

    private static NetTcpBinding NetTcp() => new(SecurityMode.None)
    {
        MaxReceivedMessageSize = ClientQuota,
        ReaderQuotas = { MaxStringContentLength = ClientQuota },
        SendTimeout = TimeSpan.FromSeconds(20),
        OpenTimeout = TimeSpan.FromSeconds(20),
        ReceiveTimeout = TimeSpan.FromMinutes(2),
    };

    private static CustomBinding Text(MessageVersion version) =>
        new(new TextMessageEncodingBindingElement(version, Encoding.UTF8), new TcpTransportBindingElement { MaxReceivedMessageSize = ClientQuota })
        {
            SendTimeout = TimeSpan.FromSeconds(20),
            OpenTimeout = TimeSpan.FromSeconds(20),
        };

    private static (ChannelFactory<IEchoService> Factory, IEchoService Echo) Open(Binding binding, Uri address)
    {
        var factory = new ChannelFactory<IEchoService>(binding, new EndpointAddress(address));
        return (factory, factory.CreateChannel());
    }

    private static void Abort(ChannelFactory factory, object channel)
    {
        ((IClientChannel)channel).Abort();
        factory.Abort();
    }

    [Fact]
    public void A_session_idle_past_its_endpoints_ReceiveTimeout_is_closed_and_one_of_another_endpoint_is_not() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (shortFactory, shortEcho) = Open(NetTcp(), fixture.Short);
            var (defaultFactory, defaultEcho) = Open(NetTcp(), fixture.Default);
            Assert.Equal("first", shortEcho.Echo("first"));
            Assert.Equal("first", defaultEcho.Echo("first"));

            Thread.Sleep(TimeSpan.FromSeconds(7)); // past 5 s, far below the other endpoint's 10 minutes

            Assert.ThrowsAny<CommunicationException>(() => shortEcho.Echo("too late"));
            Assert.Equal("still open", defaultEcho.Echo("still open"));
            Abort(shortFactory, shortEcho);
            Abort(defaultFactory, defaultEcho);
        });

    [Fact]
    public void A_message_over_one_endpoints_MaxReceivedMessageSize_is_refused_there_only() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var big = new string('x', 20_000); // over 10000, under the worker's 64 KB
            var (shortFactory, shortEcho) = Open(NetTcp(), fixture.Short);
            Assert.Equal("small", shortEcho.Echo("small"));
            // WCF's answer: the MaxMessageSizeExceeded framing fault, the client's CommunicationException.
            Assert.ThrowsAny<CommunicationException>(() => shortEcho.Echo(big));
            Abort(shortFactory, shortEcho);

            var (defaultFactory, defaultEcho) = Open(NetTcp(), fixture.Default);
            Assert.Equal(big, defaultEcho.Echo(big));
            Abort(defaultFactory, defaultEcho);
        });

    [Theory]
    [InlineData("soap11")]
    [InlineData("soap12")]
    public void A_text_encoding_client_over_tcp_is_served_in_its_soap_version(string soap) =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (version, address) = soap == "soap11"
                ? (MessageVersion.Soap11WSAddressing10, fixture.Text11)
                : (MessageVersion.Soap12WSAddressing10, fixture.Text12);
            var (factory, echo) = Open(Text(version), address);
            Assert.Equal($"hello in {soap}", echo.Echo($"hello in {soap}"));
            var fault = Assert.Throws<FaultException<EchoFault>>(() => echo.Fail("typed"));
            Assert.Equal("typed", fault.Detail.Reason);
            Assert.Equal("again", echo.Echo("again"));
            ((IClientChannel)echo).Close();
            factory.Close();
        });

    [Fact]
    public void A_text_client_of_a_binary_endpoint_reads_the_ContentTypeInvalid_fault() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (factory, echo) = Open(Text(MessageVersion.Soap11WSAddressing10), fixture.Default);
            // ProtocolException is what WCF's client makes of the ContentTypeInvalid fault; a bare reset would be a
            // CommunicationException only.
            Assert.Throws<ProtocolException>(() => echo.Echo("refused"));
            Abort(factory, echo);

            var (textFactory, text12) = Open(Text(MessageVersion.Soap12WSAddressing10), fixture.Text11);
            Assert.Throws<ProtocolException>(() => text12.Echo("the other version"));
            Abort(textFactory, text12);
        });
}
