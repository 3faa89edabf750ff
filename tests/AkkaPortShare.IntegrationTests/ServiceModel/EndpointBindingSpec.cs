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
    public Uri Quotas => new(Host.Via("bind/quotas/"));

    public async Task InitializeAsync()
    {
        await Host.StartRouterAsync();
        await Host.StartWorkerAsync("worker-binding",
        [
            "--wcf-endpoint", Host.Address("bind/short/"), "receive-timeout=5s,max-received-message-size=10000",
            // Default settings but the string quota, raised in C# (ReaderQuotas) for the 20,000-character message.
            "--wcf-endpoint", Host.Address("bind/default/"), "max-string-content-length=65536",
            "--wcf-endpoint", Host.Address("bind/text11/"), "text=soap11",
            "--wcf-endpoint", Host.Address("bind/text12/"), "text=soap12",
            "--wcf-address", Host.Address("bind/quotas/"), // nothing set anywhere: WCF's reader quotas
        ], "bind/short/", "bind/default/", "bind/text11/", "bind/text12/", "bind/quotas/");
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

    [Fact]
    public void An_argument_over_WCFs_default_string_quota_gets_WCFs_DeserializationFailed_fault_and_the_session_goes_on() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (factory, echo) = Open(NetTcp(), fixture.Quotas);
            var atQuota = new string('x', 8192);
            Assert.Equal(atQuota, echo.Echo(atQuota));

            // WCF's service: its formatter's fault, Sender / DeserializationFailed, naming the parameter and the quota.
            var fault = Assert.Throws<FaultException>(() => echo.Echo(new string('x', 8193)));
            Assert.Equal("DeserializationFailed", fault.Code.SubCode?.Name);
            Assert.Equal("http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher", fault.Code.SubCode?.Namespace);
            Assert.True(fault.Code.IsSenderFault);
            Assert.StartsWith("The formatter threw an exception while trying to deserialize the message: There was an error while trying " +
                              "to deserialize parameter urn:akkaportshare:samples:text.", fault.Reason.ToString());
            Assert.Contains("The maximum string content length quota (8192) has been exceeded", fault.Reason.ToString());

            Assert.Equal("still open", echo.Echo("still open"));
            Abort(factory, echo);
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
