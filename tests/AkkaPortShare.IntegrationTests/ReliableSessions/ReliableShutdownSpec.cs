using System.ServiceModel;
using AkkaPortShare.IntegrationTests.Harness;
using AkkaPortShare.IntegrationTests.ServiceModel;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.ReliableSessions;

/// <summary>
/// A worker asked to stop (SIGTERM) while a real WCF client holds a reliable session through the router: it gives its
/// address back to the router first, so a new session is refused there (EndpointNotFound: WCF's reliable-session
/// client retries it until its open timeout), while the established one is still served and closes normally, and
/// the worker exits as soon as it has. No timing: each step waits for the line the worker or router logs when it
/// gets there, and the drain timeout is far above every wait.
/// </summary>
public sealed class ReliableShutdownSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static NetTcpBinding Binding() => new(SecurityMode.None, reliableSessionEnabled: true)
    {
        OpenTimeout = Wait,
        SendTimeout = Wait,
        CloseTimeout = TimeSpan.FromSeconds(10),
    };

    [Fact]
    public async Task A_stopping_worker_refuses_new_sessions_and_lets_an_established_one_finish()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        // Drain bound far above the test's waits: the worker can only exit in time because the session ended.
        var config = host.WriteConfig("""
            akka-port-share.reliable-session.shutdown-drain-timeout = 120s
            akka.coordinated-shutdown.phases.service-requests-done.timeout = 130s
            """);
        var worker = await host.StartWorkerAsync("worker-S", ["--wcf-address", host.Address("s/echo/"), "--config", config], "s/echo/");
        var address = new EndpointAddress(host.Via("s/echo/"));

        var liveFactory = new ChannelFactory<IEchoService>(Binding(), address);
        var live = liveFactory.CreateChannel();
        ((IClientChannel)live).Open();
        Assert.Equal("before", live.Echo("before"));

        var fromLine = worker.LineCount;
        worker.Signal("TERM");
        await worker.WaitForLineAsync(@"Reliable endpoint stops accepting sessions \(1 live", Wait, fromLine);
        await host.Router!.WaitForLineAsync($"Unregistered {PortShareHost.Regex(host.Address("s/echo/"))} for worker pid {worker.Id}", Wait);

        // A new session while the worker drains: the router no longer routes its address to it.
        var refusedBinding = Binding();
        refusedBinding.OpenTimeout = TimeSpan.FromSeconds(3);
        var refusedFactory = new ChannelFactory<IEchoService>(refusedBinding, address);
        var refused = refusedFactory.CreateChannel();
        var error = Assert.ThrowsAny<CommunicationException>(() => ((IClientChannel)refused).Open());
        output.WriteLine($"new session: {error.GetType().Name}: {error.Message}");
        ((IClientChannel)refused).Abort();
        refusedFactory.Abort();

        // The established session is still served, and closes as usual.
        Assert.Equal("during shutdown", live.Echo("during shutdown"));
        ((IClientChannel)live).Close();
        liveFactory.Close();

        await worker.WaitForLineAsync("Reliable endpoint: every session has ended", Wait, fromLine);
        Assert.True(await worker.WaitForExitAsync(Wait), $"the worker did not exit. Output:\n{worker.Output}");
        Assert.Equal(0, worker.CountLines("sessions still live after shutdown-drain-timeout"));
    }
}
