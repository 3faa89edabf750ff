using System.ServiceModel;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

/// <summary>
/// Endpoints of one contract whose TransferMode and ReliableSession settings are set in C# per endpoint (the sample's
/// --wcf-endpoint, NetTcpEndpointOptions), next to endpoints that leave them to HOCON.
/// </summary>
public sealed class EndpointSessionSettingsFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();

    public Uri Streamed => new(Host.Via("set/streamed/"));
    public Uri Buffered => new(Host.Via("set/buffered/"));
    public Uri NoReliable => new(Host.Via("set/noreliable/"));
    public Uri ShortInactivity => new(Host.Via("set/inactive/"));
    public Uri Default => new(Host.Via("set/default/"));

    public async Task InitializeAsync()
    {
        await Host.StartRouterAsync();
        await Host.StartWorkerAsync("worker-settings",
        [
            "--wcf-endpoint", Host.Address("set/streamed/"), "transfer-mode=streamed",
            "--wcf-endpoint", Host.Address("set/buffered/"), "transfer-mode=buffered",
            "--wcf-endpoint", Host.Address("set/noreliable/"), "reliable=off",
            "--wcf-endpoint", Host.Address("set/inactive/"), "inactivity-timeout=3s",
            "--wcf-address", Host.Address("set/default/"), // nothing set in C#: HOCON's (WCF's) defaults
        ], "set/streamed/", "set/buffered/", "set/noreliable/", "set/inactive/", "set/default/");
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class EndpointSessionSettingsSpec(EndpointSessionSettingsFixture fixture) : IClassFixture<EndpointSessionSettingsFixture>
{
    private static NetTcpBinding Binding(TransferMode mode = TransferMode.Buffered, bool reliable = false) =>
        new(SecurityMode.None, reliable)
        {
            TransferMode = mode,
            SendTimeout = TimeSpan.FromSeconds(20),
            OpenTimeout = TimeSpan.FromSeconds(20),
            CloseTimeout = TimeSpan.FromSeconds(20),
            ReceiveTimeout = TimeSpan.FromMinutes(2),
            ReliableSession = { InactivityTimeout = TimeSpan.FromMinutes(10) },
        };

    private static (ChannelFactory<IEchoService> Factory, IEchoService Echo) Open(NetTcpBinding binding, Uri address)
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
    public void An_endpoint_streamed_in_CSharp_serves_a_streamed_client_and_refuses_a_buffered_one() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (factory, echo) = Open(Binding(TransferMode.Streamed), fixture.Streamed);
            Assert.Equal("streamed", echo.Echo("streamed"));
            Assert.Equal("twice", echo.Echo("twice"));
            ((IClientChannel)echo).Close();
            factory.Close();

            var (bufferedFactory, buffered) = Open(Binding(TransferMode.Buffered), fixture.Streamed);
            // WCF's answer: the UnsupportedMode framing fault, which WCF's client reads as this ProtocolException.
            var refused = Assert.Throws<ProtocolException>(() => buffered.Echo("refused"));
            Assert.Contains("Framing mode being used is not supported", refused.Message);
            Abort(bufferedFactory, buffered);
        });

    [Fact]
    public void An_endpoint_buffered_in_CSharp_refuses_a_streamed_client_and_the_default_takes_either() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (factory, echo) = Open(Binding(TransferMode.Streamed), fixture.Buffered);
            var refused = Assert.Throws<ProtocolException>(() => echo.Echo("refused"));
            Assert.Contains("Framing mode being used is not supported", refused.Message);
            Abort(factory, echo);

            var (bufferedFactory, buffered) = Open(Binding(TransferMode.Buffered), fixture.Buffered);
            Assert.Equal("buffered", buffered.Echo("buffered"));
            Abort(bufferedFactory, buffered);

            foreach (var mode in new[] { TransferMode.Streamed, TransferMode.Buffered })
            {
                var (defaultFactory, either) = Open(Binding(mode), fixture.Default);
                Assert.Equal($"{mode}", either.Echo($"{mode}"));
                Abort(defaultFactory, either);
            }
        });

    [Fact]
    public void An_endpoint_with_reliable_sessions_off_in_CSharp_refuses_a_reliable_client_and_serves_a_plain_one() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (factory, reliable) = Open(Binding(reliable: true), fixture.NoReliable);
            // As WCF's service without reliable sessions: CreateSequence is an action it does not know.
            var refused = Assert.Throws<ActionNotSupportedException>(() => reliable.Echo("refused"));
            Assert.Contains("CreateSequence", refused.Message);
            Abort(factory, reliable);

            var (plainFactory, plain) = Open(Binding(), fixture.NoReliable);
            Assert.Equal("plain", plain.Echo("plain"));
            Abort(plainFactory, plain);

            var (defaultFactory, onDefault) = Open(Binding(reliable: true), fixture.Default);
            Assert.Equal("reliable", onDefault.Echo("reliable"));
            ((IClientChannel)onDefault).Close();
            defaultFactory.Close();
        });

    [Fact]
    public void A_reliable_session_idle_past_its_endpoints_InactivityTimeout_ends_and_one_of_another_endpoint_does_not() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            // The client's own InactivityTimeout is 10 minutes: it sends nothing to keep the session alive meanwhile.
            var (shortFactory, shortEcho) = Open(Binding(reliable: true), fixture.ShortInactivity);
            var (defaultFactory, defaultEcho) = Open(Binding(reliable: true), fixture.Default);
            Assert.Equal("first", shortEcho.Echo("first"));
            Assert.Equal("first", defaultEcho.Echo("first"));

            Thread.Sleep(TimeSpan.FromSeconds(7)); // past 3 s, far below the other endpoint's 10 minutes

            // The worker ended the reliable session; WCF's client has faulted the channel.
            Assert.Throws<CommunicationObjectFaultedException>(() => shortEcho.Echo("too late"));
            Assert.Equal("still open", defaultEcho.Echo("still open"));
            Abort(shortFactory, shortEcho);
            ((IClientChannel)defaultEcho).Close();
            defaultFactory.Close();
        });
}
