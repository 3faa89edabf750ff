using System.Collections.Concurrent;
using System.Diagnostics;
using System.ServiceModel;
using AkkaPortShare.IntegrationTests.Harness;
using AkkaPortShare.IntegrationTests.ServiceModel;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Operations;

/// <summary>
/// A rolling upgrade with share-addresses, with real processes and the real WCF client: while a client calls in a
/// loop, version 2 of a worker registers the address version 1 holds; version 1 gets SIGTERM, gives the address
/// back, drains and exits 0; no call fails. Two clients: one opens a new channel per call (so WCF's connection pool
/// reuses one connection for session after session), one keeps a session channel for a batch of calls.
/// </summary>
public sealed class RollingUpgradeSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const int MaxCalls = 5000;             // per client: the loops are bounded in count...
    private static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(90); // ...and in time
    private const int CallsPerSession = 20;

    private static NetTcpBinding Binding() => new(SecurityMode.None)
    {
        SendTimeout = TimeSpan.FromSeconds(20),
        ReceiveTimeout = TimeSpan.FromSeconds(20),
        OpenTimeout = TimeSpan.FromSeconds(20),
        CloseTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Calls made by one client loop: who served each, and every failure.</summary>
    private sealed class Tally
    {
        private readonly ConcurrentDictionary<string, int> _servedBy = new();
        public ConcurrentQueue<string> Failures { get; } = new();
        public int Calls;

        public void Served(string identity)
        {
            _servedBy.AddOrUpdate(identity, 1, (_, n) => n + 1);
            Interlocked.Increment(ref Calls);
        }

        public int By(string identity) => _servedBy.GetValueOrDefault(identity);

        public override string ToString() => $"{Calls} calls ({string.Join(", ", _servedBy.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}"))}), {Failures.Count} failed";
    }

    [Fact]
    public async Task A_client_calling_through_a_rolling_upgrade_sees_no_failed_call_and_the_old_worker_exits_0()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        var sharing = host.WriteConfig("akka-port-share.worker { share-addresses = on, drain-timeout = 20s }");
        string[] args = ["--wcf-address", host.Address("up/echo/"), "--config", sharing];
        var v1 = await host.StartWorkerAsync("v1", args, "up/echo/");
        var address = new EndpointAddress(host.Via("up/echo/"));

        using var stop = new CancellationTokenSource(MaxTime);
        var perCall = new Tally();
        var perSession = new Tally();
        var loops = new[]
        {
            Loop(() => ChannelPerCall(address, perCall, stop.Token)),
            Loop(() => SessionBatches(address, perSession, stop.Token)),
        };
        try
        {
            await WaitAsync(() => perCall.By("v1") >= 50 && perSession.By("v1") >= CallsPerSession, "v1 serves both clients", stop.Token);

            var v2 = await host.StartWorkerAsync("v2", args, "up/echo/");
            await host.Router!.WaitForLineAsync("shared: 2 workers hold it now", Timeout);
            var atUpgrade = (perCall.Calls, perSession.Calls);

            var drained = Stopwatch.StartNew();
            v1.Signal("TERM");
            Assert.True(await v1.WaitForExitAsync(Timeout), "v1 did not exit\n" + host.Tails());
            output.WriteLine($"v1 exited {drained.ElapsedMilliseconds} ms after SIGTERM");
            Assert.Equal(0, v1.ExitCode);

            // Both clients go on, now with v2 only.
            var atExit = (perCall.By("v2"), perSession.By("v2"));
            await WaitAsync(() => perCall.By("v2") >= atExit.Item1 + 50 && perSession.By("v2") >= atExit.Item2 + 2 * CallsPerSession,
                "v2 serves both clients after v1 exited", stop.Token);
            Assert.False(v2.HasExited);
            output.WriteLine($"calls before v2 registered: {atUpgrade.Item1} per call, {atUpgrade.Item2} in sessions");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(loops);
            output.WriteLine($"channel per call: {perCall}");
            output.WriteLine($"session channel:  {perSession}");
        }

        Assert.True(perCall.Failures.IsEmpty && perSession.Failures.IsEmpty,
            "failed calls:\n" + string.Join("\n", perCall.Failures.Concat(perSession.Failures).Take(10)) + "\n" + host.Tails());
        Assert.True(perCall.By("v1") > 0 && perCall.By("v2") > 0, perCall.ToString());
        Assert.True(perSession.By("v1") > 0 && perSession.By("v2") > 0, perSession.ToString());
        Assert.Contains("unregistering 1 address(es)", v1.Output);
    }

    // A dedicated thread: the WCF client blocks its thread for each synchronous call.
    private static Task Loop(Action body) => Task.Factory.StartNew(body, TaskCreationOptions.LongRunning);

    private static void ChannelPerCall(EndpointAddress address, Tally tally, CancellationToken stop)
    {
        var factory = new ChannelFactory<IEchoService>(Binding(), address);
        try
        {
            for (var i = 0; i < MaxCalls && !stop.IsCancellationRequested; i++)
            {
                var channel = factory.CreateChannel();
                try
                {
                    tally.Served(channel.Identity());
                    ((IClientChannel)channel).Close();
                }
                catch (Exception e) when (e is CommunicationException or TimeoutException)
                {
                    tally.Failures.Enqueue($"per-call #{i}: {e.GetType().Name}: {e.Message}");
                    ((IClientChannel)channel).Abort();
                }
            }
        }
        finally
        {
            factory.Abort();
        }
    }

    private static void SessionBatches(EndpointAddress address, Tally tally, CancellationToken stop)
    {
        var factory = new ChannelFactory<IEchoService>(Binding(), address);
        try
        {
            for (var i = 0; i < MaxCalls / CallsPerSession && !stop.IsCancellationRequested; i++)
            {
                var channel = factory.CreateChannel();
                try
                {
                    for (var call = 0; call < CallsPerSession; call++)
                    {
                        tally.Served(channel.Identity());
                        Thread.Sleep(5); // a session that lasts a while, so that SIGTERM finds one open
                    }
                    ((IClientChannel)channel).Close();
                }
                catch (Exception e) when (e is CommunicationException or TimeoutException)
                {
                    tally.Failures.Enqueue($"session #{i}: {e.GetType().Name}: {e.Message}");
                    ((IClientChannel)channel).Abort();
                }
            }
        }
        finally
        {
            factory.Abort();
        }
    }

    private static async Task WaitAsync(Func<bool> condition, string what, CancellationToken stop)
    {
        while (!condition())
        {
            if (stop.IsCancellationRequested) throw new TimeoutException($"gave up waiting: {what}");
            await Task.Delay(20, CancellationToken.None);
        }
    }
}
