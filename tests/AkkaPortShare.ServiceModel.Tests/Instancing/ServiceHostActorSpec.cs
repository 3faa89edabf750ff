using System.Runtime.Serialization;
using System.ServiceModel;
using Akka.Actor;
using AkkaPortShare.ServiceModel.Instancing;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Instancing;

[DataContract]
public sealed class CounterFault
{
    [DataMember] public string? Why { get; set; }
}

[ServiceContract]
public interface ICounter
{
    [OperationContract] int Increment();
    [OperationContract] Task<string> DescribeAsync(string prefix);
    [OperationContract(AsyncPattern = true)] IAsyncResult BeginAdd(int a, int b, AsyncCallback callback, object state);
    int EndAdd(IAsyncResult result);
    [OperationContract(IsOneWay = true)] void Note(string text);
    [OperationContract] [FaultContract(typeof(CounterFault))] int Refuse(string why);
    [OperationContract] int Crash();
    [OperationContract] int Hold();
    [OperationContract(IsOneWay = true)] void Explode();
}

/// <summary>A plain WCF service class, as its owner wrote it.</summary>
public class Counter : ICounter, IDisposable
{
    public static int Created;
    public static int Disposed;
    public static SemaphoreSlim Gate = new(0);
    public static int Holding;
    public static int MostHoldingAtOnce;
    private int _count;

    public Counter() => Interlocked.Increment(ref Created);
    public int Increment() => ++_count;
    public async Task<string> DescribeAsync(string prefix)
    {
        await Task.Yield();
        return $"{prefix}{_count}";
    }
    public IAsyncResult BeginAdd(int a, int b, AsyncCallback callback, object state)
    {
        var task = Task.FromResult(a + b);
        task.ContinueWith(t => callback(t));
        return task;
    }
    public int EndAdd(IAsyncResult result) => ((Task<int>)result).Result;
    public void Note(string text) => _count += 100;
    public int Refuse(string why) => throw new FaultException<CounterFault>(new CounterFault { Why = why }, new FaultReason("refused"),
        new FaultCode("Sender", new FaultCode("CounterRefused")), null);
    public int Crash() => throw new InvalidOperationException("secret internals");
    public int Hold()
    {
        var now = Interlocked.Increment(ref Holding);
        InterlockedMax(ref MostHoldingAtOnce, now);
        Gate.Wait(TimeSpan.FromSeconds(10)); // a blocking operation, as WCF services have
        Interlocked.Decrement(ref Holding);
        return now;
    }
    public void Explode() => throw new InvalidOperationException("one-way failure");
    public void Dispose() => Interlocked.Increment(ref Disposed);

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}

[ServiceBehavior(InstanceContextMode = InstanceContextMode.PerCall)]
public sealed class PerCallCounter : Counter;

[ServiceBehavior(InstanceContextMode = InstanceContextMode.Single, IncludeExceptionDetailInFaults = true)]
public sealed class SingleCounter : Counter;

[ServiceBehavior(ConcurrencyMode = ConcurrencyMode.Multiple)]
public sealed class MultipleCounter : Counter;

/// <summary>
/// A service class hosted as WCF hosts it: instances by InstanceContextMode, calls by ConcurrencyMode, answers as WCF
/// maps them. The test plays the SOAP layer (OperationInvoked, SessionStarted/Ended), as SoapSessionActor does.
/// </summary>
[Collection("Counter statics")]
public sealed partial class ServiceHostActorSpec : Akka.TestKit.Xunit2.TestKit
{
    public ServiceHostActorSpec() : base("akka.actor.provider = local", "ServiceHostActorSpec")
    {
        Counter.Created = 0;
        Counter.Disposed = 0;
        Counter.Holding = 0;
        Counter.MostHoldingAtOnce = 0;
        Counter.Gate = new SemaphoreSlim(0);
    }

    private IActorRef Host<TService>() where TService : Counter, new() =>
        Sys.ActorOf(ServiceHostActor.Props(typeof(TService), typeof(ICounter), () => new TService()));

    private async Task<object?> CallAsync(IActorRef host, string session, string operation, params object?[] arguments) =>
        (await host.Ask<OperationResult>(new OperationInvoked(operation, arguments, TestActor, session), RemainingOrDefault)).ReturnValue;

    [Fact]
    public async Task PerSession_gives_each_session_its_own_instance_and_disposes_it_when_the_session_ends()
    {
        var host = Host<Counter>();
        host.Tell(new SessionStarted("s1", TestActor));
        host.Tell(new SessionStarted("s2", TestActor));

        Assert.Equal(1, await CallAsync(host, "s1", "Increment"));
        Assert.Equal(2, await CallAsync(host, "s1", "Increment"));
        Assert.Equal(1, await CallAsync(host, "s2", "Increment"));
        Assert.Equal(2, Counter.Created);

        host.Tell(new SessionEnded("s1"));
        await AwaitConditionAsync(() => Task.FromResult(Counter.Disposed == 1));
        Assert.Equal(2, await CallAsync(host, "s2", "Increment")); // the other session's instance lives on
    }

    [Fact]
    public async Task PerCall_makes_and_disposes_an_instance_for_every_call()
    {
        var host = Host<PerCallCounter>();

        Assert.Equal(1, await CallAsync(host, "s1", "Increment"));
        Assert.Equal(1, await CallAsync(host, "s1", "Increment"));
        Assert.Equal(2, Counter.Created);
        await AwaitConditionAsync(() => Task.FromResult(Counter.Disposed == 2));
    }

    [Fact]
    public async Task Single_shares_one_instance_between_sessions()
    {
        var host = Host<SingleCounter>();

        Assert.Equal(1, await CallAsync(host, "s1", "Increment"));
        Assert.Equal(2, await CallAsync(host, "s2", "Increment"));
        host.Tell(new SessionEnded("s1"));
        Assert.Equal(3, await CallAsync(host, "s3", "Increment"));
        Assert.Equal(1, Counter.Created);
    }

    [Fact]
    public async Task Task_based_and_Begin_End_operations_answer_with_their_results()
    {
        var host = Host<Counter>();

        Assert.Equal(1, await CallAsync(host, "s1", "Increment"));
        Assert.Equal("count=1", await CallAsync(host, "s1", "Describe", "count="));
        Assert.Equal(5, await CallAsync(host, "s1", "Add", 2, 3));
    }

    [Fact]
    public async Task A_one_way_operation_is_not_answered_but_runs_in_order()
    {
        var host = Host<Counter>();

        host.Tell(new OperationInvoked("Note", ["x"], TestActor, "s1"), TestActor);

        Assert.Equal(101, await CallAsync(host, "s1", "Increment"));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // nothing for the one-way call
    }

    [Fact]
    public async Task ConcurrencyMode_Single_runs_one_call_of_an_instance_at_a_time()
    {
        var host = Host<Counter>();
        var first = host.Ask<OperationResult>(new OperationInvoked("Hold", [], TestActor, "s1"), TimeSpan.FromSeconds(10));
        var second = host.Ask<OperationResult>(new OperationInvoked("Hold", [], TestActor, "s1"), TimeSpan.FromSeconds(10));
        await AwaitConditionAsync(() => Task.FromResult(Counter.Holding == 1));
        await Task.Delay(200); // room for a wrongly concurrent second call to start (it must not)
        Assert.Equal(1, Counter.Holding);

        Counter.Gate.Release(2);
        Assert.Equal(1, (await first).ReturnValue);
        Assert.Equal(1, (await second).ReturnValue);
        Assert.Equal(1, Counter.MostHoldingAtOnce);
    }

    [Fact]
    public async Task ConcurrencyMode_Multiple_runs_calls_of_an_instance_at_once()
    {
        var host = Host<MultipleCounter>();
        var first = host.Ask<OperationResult>(new OperationInvoked("Hold", [], TestActor, "s1"), TimeSpan.FromSeconds(10));
        var second = host.Ask<OperationResult>(new OperationInvoked("Hold", [], TestActor, "s1"), TimeSpan.FromSeconds(10));

        await AwaitConditionAsync(() => Task.FromResult(Counter.Holding == 2));
        Counter.Gate.Release(2);
        await Task.WhenAll(first, second);
        Assert.Equal(2, Counter.MostHoldingAtOnce);
        Assert.Equal(1, Counter.Created);
    }

    [Fact]
    public async Task A_FaultException_is_the_services_fault_with_its_code_and_detail()
    {
        var host = Host<Counter>();

        var fault = await host.Ask<OperationFault>(new OperationInvoked("Refuse", ["too many"], TestActor, "s1"), RemainingOrDefault);

        Assert.Equal(("refused", "CounterRefused"), (fault.Reason, fault.Code));
        Assert.Equal("too many", Assert.IsType<CounterFault>(fault.Detail).Why);
    }

    [Fact]
    public async Task Another_exception_is_an_internal_error_whose_text_the_client_sees_only_when_detail_is_included()
    {
        var hidden = await Assert.ThrowsAsync<ServiceFailure>(() =>
            Host<Counter>().Ask<object>(new OperationInvoked("Crash", [], TestActor, "s1"), RemainingOrDefault));
        Assert.Equal(ServiceFailure.HiddenReason, hidden.Message);
        Assert.DoesNotContain("secret", hidden.Message);

        var shown = await Assert.ThrowsAsync<ServiceFailure>(() =>
            Host<SingleCounter>().Ask<object>(new OperationInvoked("Crash", [], TestActor, "s1"), RemainingOrDefault));
        Assert.Equal("secret internals", shown.Message);
    }
}
