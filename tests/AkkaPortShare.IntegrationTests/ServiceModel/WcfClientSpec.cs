using System.ServiceModel;
using System.ServiceModel.Channels;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

/// <summary>The real System.ServiceModel.NetTcp client, unmodified, against the router and real worker processes.</summary>
public sealed class WcfClientSpec(WcfFixture fixture) : IClassFixture<WcfFixture>
{
    private static NetTcpBinding Binding(int quota = 65536) => new(SecurityMode.None)
    {
        MaxReceivedMessageSize = quota,
        MaxBufferSize = quota,
        ReaderQuotas = { MaxStringContentLength = quota, MaxArrayLength = quota },
        SendTimeout = TimeSpan.FromSeconds(30),
        ReceiveTimeout = TimeSpan.FromSeconds(30),
        OpenTimeout = TimeSpan.FromSeconds(30),
        CloseTimeout = TimeSpan.FromSeconds(10),
    };

    private static (ChannelFactory<IEchoService> Factory, IEchoService Channel) Open(Uri address, int quota = 65536)
    {
        var factory = new ChannelFactory<IEchoService>(Binding(quota), new EndpointAddress(address));
        return (factory, factory.CreateChannel());
    }

    private static void Close(object channel, ChannelFactory factory)
    {
        ((IClientChannel)channel).Close();
        factory.Close();
    }

    [Fact]
    public void Echo_through_the_shared_port()
    {
        var (factory, echo) = Open(fixture.EchoA);
        Assert.Equal("hello, wcf", echo.Echo("hello, wcf"));
        Assert.Equal("worker-A", echo.Identity());
        Close(echo, factory);
    }

    [Fact]
    public void One_way_calls_all_arrive()
    {
        var (factory, echo) = Open(fixture.EchoB);
        var before = echo.PostedCount();
        for (var i = 0; i < 50; i++) echo.Post($"note {i}");
        // A request on the same session comes after the one-way messages, so they have all been handled by then.
        Assert.Equal(before + 50, echo.PostedCount());
        Close(echo, factory);
    }

    [Fact]
    public void A_typed_fault_reaches_the_client_with_reason_and_code()
    {
        var (factory, echo) = Open(fixture.EchoA);
        var fault = Assert.Throws<FaultException<EchoFault>>(() => echo.Fail("disk full"));
        Assert.Equal("disk full", fault.Detail.Reason);
        Assert.Equal("disk full", fault.Reason.ToString());
        Assert.Equal("EchoFailed", fault.Code.SubCode?.Name);
        // A fault does not end the session.
        Assert.Equal("still here", echo.Echo("still here"));
        Close(echo, factory);
    }

    [Fact]
    public void An_unknown_action_gets_the_action_not_supported_fault()
    {
        var factory = new ChannelFactory<IUnknownContract>(Binding(), new EndpointAddress(fixture.EchoA));
        var channel = factory.CreateChannel();
        Assert.Throws<ActionNotSupportedException>(() => channel.NotThere());
        ((IClientChannel)channel).Abort();
        factory.Abort();
    }

    [Fact]
    public void An_unknown_address_gives_EndpointNotFoundException()
    {
        // First prove the port listens: a refused connection would also surface as EndpointNotFoundException.
        var (known, echo) = Open(fixture.EchoA);
        Assert.Equal("up", echo.Echo("up"));
        Close(echo, known);

        var (factory, nowhere) = Open(new Uri(fixture.Host.Via("nobody/home/")));
        Assert.Throws<EndpointNotFoundException>(() => nowhere.Echo("anyone?"));
        factory.Abort();
    }

    [Fact]
    public void A_duplex_callback_reaches_the_client_on_the_same_session()
    {
        var callback = new RecordingCallback();
        var factory = new DuplexChannelFactory<IEchoDuplexService>(new InstanceContext(callback), Binding(),
            new EndpointAddress(fixture.DuplexA));
        var channel = factory.CreateChannel();
        Assert.Equal("ping", channel.EchoWithCallback("ping"));
        Assert.True(callback.Received.Wait(TimeSpan.FromSeconds(10)), "the callback did not arrive");
        Assert.Equal("ping", callback.Text);
        Close(channel, factory);
    }

    [Fact]
    public void A_one_megabyte_message_passes_with_raised_quotas()
    {
        var (factory, echo) = Open(fixture.EchoA, WcfFixture.RaisedQuota);
        var big = new string('x', 1024 * 1024);
        Assert.Equal(big, echo.Echo(big));
        Close(echo, factory);
    }

    [Fact]
    public void A_message_over_the_workers_maximum_fails_that_call_only()
    {
        var (factory, echo) = Open(fixture.EchoA, 16 * 1024 * 1024);
        Assert.ThrowsAny<CommunicationException>(() => echo.Echo(new string('x', WcfFixture.RaisedQuota + 1024)));
        ((IClientChannel)echo).Abort();
        factory.Abort();

        var (other, fine) = Open(fixture.EchoA);
        Assert.Equal("unharmed", fine.Echo("unharmed"));
        Close(fine, other);
    }

    [Fact]
    public async Task Thirty_two_concurrent_channels_spread_over_two_workers()
    {
        var tasks = Enumerable.Range(0, 32).Select(i => Task.Run(() =>
        {
            var (address, worker) = i % 2 == 0 ? (fixture.EchoA, "worker-A") : (fixture.EchoB, "worker-B");
            var (factory, echo) = Open(address);
            Assert.Equal(worker, echo.Identity());
            for (var j = 0; j < 20; j++) Assert.Equal($"{i}:{j}", echo.Echo($"{i}:{j}"));
            Close(echo, factory);
        }));
        await Task.WhenAll(tasks);
    }

    [Fact]
    public void Calling_A_then_B_on_the_same_port_works_every_time()
    {
        // Two factories on one port: the client pools connections and reuses one socket for both addresses,
        // sending a new preamble with the other via. The socket must move between the two worker processes.
        var a = new ChannelFactory<IEchoService>(Binding(), new EndpointAddress(fixture.EchoA));
        var b = new ChannelFactory<IEchoService>(Binding(), new EndpointAddress(fixture.EchoB));
        for (var i = 0; i < 40; i++)
        {
            var (factory, expected) = i % 2 == 0 ? (a, "worker-A") : (b, "worker-B");
            var channel = factory.CreateChannel();
            Assert.Equal(expected, channel.Identity());
            ((IClientChannel)channel).Close();
        }
        a.Close();
        b.Close();
    }

    [Fact]
    public void Client_close_returns_promptly_and_abort_is_harmless()
    {
        var (factory, echo) = Open(fixture.EchoB);
        Assert.Equal("x", echo.Echo("x"));
        var started = DateTime.UtcNow;
        ((IClientChannel)echo).Close(TimeSpan.FromSeconds(10));
        Assert.Equal(CommunicationState.Closed, ((IClientChannel)echo).State);

        var aborted = factory.CreateChannel();
        Assert.Equal("y", aborted.Echo("y"));
        ((IClientChannel)aborted).Abort();
        var again = factory.CreateChannel();
        Assert.Equal("z", again.Echo("z"));
        Close(again, factory);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [ServiceContract(Namespace = "urn:akkaportshare:samples", Name = "IEchoService")]
    public interface IUnknownContract
    {
        [OperationContract]
        string NotThere();
    }

    private sealed class RecordingCallback : IEchoCallback
    {
        public ManualResetEventSlim Received { get; } = new();
        public string? Text { get; private set; }

        public void Echoed(string text)
        {
            Text = text;
            Received.Set();
        }
    }
}
