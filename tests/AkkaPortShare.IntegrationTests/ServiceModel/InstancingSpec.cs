using System.ServiceModel;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

// The client side's own copy of the sample's IInstancingService, as svcutil would generate it: the service's Begin/End
// DelayedEcho is one synchronous operation here (the wire does not know the difference), and Overlap also has its
// Task-based form so one channel can have several calls out at once.
[ServiceContract(Name = "IInstancingService", Namespace = "urn:akkaportshare:samples")]
public interface IInstancingClient
{
    [OperationContract] string Hit();
    [OperationContract] int HitInstancesDisposed();
    [OperationContract] Task<int> OverlapAsync(string gateId, int size, int timeoutMs);
    [OperationContract] Task<int> OverlapBlockingAsync(string gateId, int size, int timeoutMs);
    [OperationContract] string DelayedEcho(string text, int delayMs);
    [OperationContract] string Sleep(int ms);
}

/// <summary>A router and a worker serving the sample's InstancingService under each [ServiceBehavior].</summary>
public sealed class InstancingFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();

    public Uri At(string variant) => new(Host.Via($"inst/{variant}/"));

    public async Task InitializeAsync()
    {
        await Host.StartRouterAsync();
        await Host.StartWorkerAsync("worker-inst", ["--instancing-address", Host.Address("inst/")],
            "inst/percall/", "inst/single/", "inst/session/", "inst/multiple/", "inst/slow/");
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// InstanceContextMode (PerCall, Single), ConcurrencyMode (Single, Multiple), a Begin/End operation and an endpoint's
/// SendTimeout, for a plain WCF service class served unchanged, seen by the real WCF client through the router.
/// </summary>
public sealed class InstancingSpec(InstancingFixture fixture) : IClassFixture<InstancingFixture>
{
    private const int Concurrent = 3; // under the worker's max-concurrent-calls-per-session (4)

    private (ChannelFactory<IInstancingClient> Factory, IInstancingClient Client) Open(string variant, bool reliable = false)
    {
        var factory = new ChannelFactory<IInstancingClient>(new NetTcpBinding(SecurityMode.None, reliable)
        {
            SendTimeout = TimeSpan.FromSeconds(30),
            OpenTimeout = TimeSpan.FromSeconds(30),
            ReceiveTimeout = TimeSpan.FromMinutes(2),
        }, new EndpointAddress(fixture.At(variant)));
        var client = factory.CreateChannel();
        ((IClientChannel)client).Open();
        return (factory, client);
    }

    private static void Close(ChannelFactory factory, object client)
    {
        ((IClientChannel)client).Close();
        factory.Close();
    }

    private static (int Instance, int Calls) Parse(string hit)
    {
        var parts = hit.Split(' ').Select(p => int.Parse(p.Split('=')[1])).ToArray();
        return (parts[0], parts[1]);
    }

    // Disposal follows the reply (the instance's actor stops after it answered): wait for it, bounded.
    private static int DisposedWithin(IInstancingClient client, int expected, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        int disposed;
        while ((disposed = client.HitInstancesDisposed()) < expected && DateTime.UtcNow < until) Thread.Sleep(100);
        return disposed;
    }

    [Fact]
    public void PerCall_makes_a_new_instance_for_every_call_and_disposes_it_after_the_call() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (factory, client) = Open("percall");
            var before = client.HitInstancesDisposed();

            var hits = Enumerable.Range(0, 3).Select(_ => Parse(client.Hit())).ToList();

            Assert.All(hits, h => Assert.Equal(1, h.Calls));
            Assert.Equal(3, hits.Select(h => h.Instance).Distinct().Count());
            Assert.Equal(before + 3, DisposedWithin(client, before + 3, TimeSpan.FromSeconds(10)));
            Thread.Sleep(300); // and no more than those three
            Assert.Equal(before + 3, client.HitInstancesDisposed());
            Close(factory, client);
        });

    [Fact]
    public void PerCall_makes_a_new_instance_for_every_call_of_a_reliable_session_too() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (factory, client) = Open("percall", reliable: true);
            var hits = Enumerable.Range(0, 3).Select(_ => Parse(client.Hit())).ToList();
            Assert.All(hits, h => Assert.Equal(1, h.Calls));
            Assert.Equal(3, hits.Select(h => h.Instance).Distinct().Count());
            Close(factory, client);
        });

    [Fact]
    public void Single_shares_one_instance_among_all_sessions_and_keeps_it_when_they_end() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (firstFactory, first) = Open("single");
            var (secondFactory, second) = Open("single");

            var a = Parse(first.Hit());
            var b = Parse(second.Hit());
            var c = Parse(first.Hit());

            Assert.Equal(a.Instance, b.Instance);
            Assert.Equal(a.Instance, c.Instance);
            Assert.Equal((a.Calls + 1, a.Calls + 2), (b.Calls, c.Calls));
            Close(firstFactory, first);
            Close(secondFactory, second);

            var (thirdFactory, third) = Open("single");
            Assert.Equal((a.Instance, a.Calls + 3), Parse(third.Hit()));
            Assert.Equal(0, third.HitInstancesDisposed());
            Close(thirdFactory, third);
        });

    [Theory]
    [InlineData("session", 1)]
    [InlineData("multiple", Concurrent)]
    public async Task Concurrent_calls_on_one_session_run_one_at_a_time_under_Single_and_at_once_under_Multiple(
        string variant, int expectedMostAtOnce)
    {
        var (factory, client) = Open(variant);
        var gate = Guid.NewGuid().ToString("N");
        try
        {
            // Each call waits until all are in, at most 1.5 s: Multiple's overlap is certain, Single only runs late.
            var calls = Enumerable.Range(0, Concurrent).Select(_ => client.OverlapAsync(gate, Concurrent, 1500)).ToArray();
            var mostAtOnce = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(25));

            Assert.Equal(expectedMostAtOnce, mostAtOnce.Max());
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"{e}\n{fixture.Host.Tails()}");
        }
        Close(factory, client);
    }

    [Fact]
    public async Task Calls_of_different_sessions_to_a_Single_instance_with_Single_concurrency_run_one_at_a_time()
    {
        var (firstFactory, first) = Open("single");
        var (secondFactory, second) = Open("single");
        var gate = Guid.NewGuid().ToString("N");
        try
        {
            var calls = new[] { first, second, first }.Select(c => c.OverlapAsync(gate, Concurrent, 1500)).ToArray();
            Assert.Equal(1, (await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(25))).Max());
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"{e}\n{fixture.Host.Tails()}");
        }
        Close(firstFactory, first);
        Close(secondFactory, second);
    }

    [Fact]
    public async Task Blocking_synchronous_calls_under_Multiple_run_at_once_too()
    {
        // Each waiting call holds a pool thread: on a small machine the pool must grow for the last one to start,
        // so the gate waits longer than for the Task-based operation; all three must still be in at once.
        var (factory, client) = Open("multiple");
        var gate = Guid.NewGuid().ToString("N");
        try
        {
            var calls = Enumerable.Range(0, Concurrent).Select(_ => client.OverlapBlockingAsync(gate, Concurrent, 8000)).ToArray();
            Assert.Equal(Concurrent, (await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(25))).Max());
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"{e}\n{fixture.Host.Tails()}");
        }
        Close(factory, client);
    }

    [Fact]
    public void A_Begin_End_operation_is_served_as_one_operation() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (factory, client) = Open("session");
            Assert.Equal("hello after 200 ms", client.DelayedEcho("hello", 200));
            Assert.Equal("again after 0 ms", client.DelayedEcho("again", 0));

            // A FaultException thrown by End (the operation's result) reaches the client as that fault; the session goes on.
            var fault = Assert.Throws<FaultException>(() => client.DelayedEcho("fault", 100));
            Assert.Equal("refused after the delay", fault.Reason.ToString());
            Assert.Equal("Delayed", fault.Code.SubCode?.Name);
            Assert.Equal("still here after 0 ms", client.DelayedEcho("still here", 0));
            Close(factory, client);
        });

    [Fact]
    public void An_operation_slower_than_its_endpoints_SendTimeout_gets_an_internal_error_fault_that_ends_the_session() =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            var (factory, client) = Open("slow");
            Assert.Equal("slept 100 ms", client.Sleep(100));

            // The endpoint's SendTimeout is 2 s: the worker stops waiting and answers WCF's internal-error fault
            // (the client's own SendTimeout is 30 s, so this is the service's answer, not the client giving up).
            var fault = Assert.Throws<FaultException>(() => client.Sleep(4000));
            Assert.Equal("InternalServiceFault", fault.Code.SubCode?.Name);
            Assert.Contains("The service did not answer Sleep", fault.Reason.ToString());

            // As after any internal-error fault, WCF's way: the session is closed, the client's channel faulted.
            Assert.Throws<CommunicationObjectFaultedException>(() => client.Sleep(0));
            ((IClientChannel)client).Abort();
            factory.Abort();

            // A new session of the endpoint is served; the same class at an endpoint with the default SendTimeout
            // (60 s) answers the slow call.
            var (againFactory, again) = Open("slow");
            Assert.Equal("slept 0 ms", again.Sleep(0));
            Close(againFactory, again);
            var (otherFactory, other) = Open("session");
            Assert.Equal("slept 3000 ms", other.Sleep(3000));
            Close(otherFactory, other);
        });
}
