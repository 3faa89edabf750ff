using System.Diagnostics;
using System.ServiceModel;
using System.ServiceModel.Channels;
using AkkaPortShare.IntegrationTests.ServiceModel;

namespace AkkaPortShare.IntegrationTests.ReliableSessions;

/// <summary>The real WCF client with NetTcpBinding(SecurityMode.None, reliableSessionEnabled: true), through the router.</summary>
public sealed class WcfReliableSessionSpec(ReliableFixture fixture) : IClassFixture<ReliableFixture>
{
    private static NetTcpBinding Binding() => new(SecurityMode.None, reliableSessionEnabled: true)
    {
        OpenTimeout = TimeSpan.FromSeconds(30),
        SendTimeout = TimeSpan.FromSeconds(30),
        CloseTimeout = TimeSpan.FromSeconds(10),
        ReceiveTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>WS-RM 1.1 needs a custom binding: NetTcpBinding always speaks February 2005.</summary>
    private static Binding Binding11() =>
        new CustomBinding(new ReliableSessionBindingElement { ReliableMessagingVersion = ReliableMessagingVersion.WSReliableMessaging11 },
            new BinaryMessageEncodingBindingElement(), new TcpTransportBindingElement())
        {
            OpenTimeout = TimeSpan.FromSeconds(30),
            SendTimeout = TimeSpan.FromSeconds(30),
            CloseTimeout = TimeSpan.FromSeconds(10),
            ReceiveTimeout = TimeSpan.FromSeconds(60),
        };

    private static (ChannelFactory<IEchoService> Factory, IEchoService Channel) Open(Uri address, Binding? binding = null)
    {
        var factory = new ChannelFactory<IEchoService>(binding ?? Binding(), new EndpointAddress(address));
        var channel = factory.CreateChannel();
        ((IClientChannel)channel).Open();
        return (factory, channel);
    }

    [Fact]
    public void A_thousand_ordered_request_reply_calls()
    {
        var (factory, echo) = Open(fixture.Echo);
        for (var i = 0; i < 1000; i++) Assert.Equal($"call {i}", echo.Echo($"call {i}"));
        ((IClientChannel)echo).Close();
        factory.Close();
    }

    [Fact]
    public void Ten_thousand_one_way_messages_all_arrive_in_order_once() => fixture.Host.WithLogsOnFailure(() =>
    {
        // A generous send timeout: on a machine many times oversubscribed, late acknowledgements double WCF's
        // retry timeout a few times over and its window can wait well beyond the usual 30 s without anything wrong.
        var binding = Binding();
        binding.SendTimeout = TimeSpan.FromMinutes(2);
        var (factory, echo) = Open(fixture.Echo, binding);
        var before = echo.NumbersReceived();
        Assert.Equal("received=0 outOfOrder=0", before);
        for (var i = 1; i <= 10_000; i++) echo.PostNumber(i);
        // A request on the same session is delivered after every one-way message before it.
        Assert.Equal("received=10000 outOfOrder=0", echo.NumbersReceived());
        ((IClientChannel)echo).Close();
        factory.Close();
    });

    [Fact]
    public void A_duplex_callback_travels_on_the_services_own_sequence()
    {
        var callback = new RecordingCallback();
        var factory = new DuplexChannelFactory<IEchoDuplexService>(new InstanceContext(callback), Binding(),
            new EndpointAddress(fixture.Duplex));
        var channel = factory.CreateChannel();
        Assert.Equal("ping", channel.EchoWithCallback("ping"));
        Assert.True(callback.Received.Wait(TimeSpan.FromSeconds(10)), "the callback did not arrive");
        Assert.Equal("ping", callback.Text);
        ((IClientChannel)channel).Close();
        factory.Close();
    }

    [Fact]
    public void Close_completes_promptly_because_the_service_closes_its_own_sequence()
    {
        var (factory, echo) = Open(fixture.Echo);
        Assert.Equal("x", echo.Echo("x"));
        var closing = Stopwatch.StartNew();
        ((IClientChannel)echo).Close();
        // The close timeout is 10 s; a service that never ends its own sequence makes Close() wait all of it.
        Assert.True(closing.Elapsed < TimeSpan.FromSeconds(5), $"Close() took {closing.Elapsed}");
        Assert.Equal(CommunicationState.Closed, ((IClientChannel)echo).State);
        factory.Close();
    }

    [Fact]
    public void WS_RM_1_1_calls_and_close_work_too()
    {
        var (factory, echo) = Open(fixture.Echo, Binding11());
        for (var i = 0; i < 100; i++) Assert.Equal($"v1.1 call {i}", echo.Echo($"v1.1 call {i}"));
        echo.Post("one-way on 1.1");
        var closing = Stopwatch.StartNew();
        ((IClientChannel)echo).Close();
        Assert.True(closing.Elapsed < TimeSpan.FromSeconds(5), $"Close() took {closing.Elapsed}");
        factory.Close();
    }

    [Fact]
    public void A_full_pending_channel_queue_refuses_new_sessions_with_ServerTooBusy()
    {
        // T takes one session at a time and lets one more wait: the third is refused.
        var (first, busy) = Open(fixture.Throttled);
        Assert.Equal("accepted", busy.Echo("accepted"));
        var (second, waiting) = Open(fixture.Throttled);

        var third = new ChannelFactory<IEchoService>(Binding(), new EndpointAddress(fixture.Throttled));
        var refused = third.CreateChannel();
        Assert.Throws<ServerTooBusyException>(() => ((IClientChannel)refused).Open());
        third.Abort();

        // Only pending sessions count: once the first ends, the waiting one is accepted and served.
        var served = Task.Run(() => waiting.Echo("served after the first closed"));
        ((IClientChannel)busy).Close();
        first.Close();
        Assert.True(served.Wait(TimeSpan.FromSeconds(20)), "the pending session was never accepted");
        Assert.Equal("served after the first closed", served.Result);
        ((IClientChannel)waiting).Close();
        second.Close();
    }

    [Fact]
    public void An_endpoint_for_one_WS_RM_version_refuses_the_other_with_a_clear_exception()
    {
        // V accepts only 1.1: NetTcpBinding's February 2005 client gets WCF's WsrmRequired answer on Open().
        var factory = new ChannelFactory<IEchoService>(Binding(), new EndpointAddress(fixture.Only11));
        var refused = factory.CreateChannel();
        var error = Assert.Throws<ProtocolException>(() => ((IClientChannel)refused).Open());
        Assert.Contains("accepts only WS-RM 1.1", error.Message);
        factory.Abort();

        var (factory11, echo) = Open(fixture.Only11, Binding11());
        Assert.Equal("1.1 is served", echo.Echo("1.1 is served"));
        ((IClientChannel)echo).Close();
        factory11.Close();
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
