using System.Collections.Concurrent;
using System.ServiceModel;
using AkkaPortShare.ServiceModel;

namespace AkkaPortShare.Samples.Echo;

/// <summary>
/// One WCF service class, hosted under each InstanceContextMode and ConcurrencyMode (the subclasses below differ only
/// in their [ServiceBehavior]), so tests can see with the real WCF client what each mode makes of instances and
/// concurrent calls. Counters are per concrete class: one worker serves all the variants side by side.
/// </summary>
public abstract class InstancingService : IInstancingService, IDisposable
{
    private sealed class Counters
    {
        public int Instances;
        public int HitInstancesDisposed;
    }

    // A gate: calls of one test run (one gate id) wait until its size are in, so overlap is measured, not hoped for.
    private sealed class Gate(int size)
    {
        public readonly TaskCompletionSource AllIn = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Arrived;
        public int Running;
        public int MostRunning;
        public int Size => size;
    }

    private static readonly ConcurrentDictionary<Type, Counters> ByClass = new();
    private static readonly ConcurrentDictionary<string, Gate> Gates = new(StringComparer.Ordinal);

    private readonly int _instance;
    private int _calls;
    private bool _hit;

    protected InstancingService() => _instance = Interlocked.Increment(ref Mine.Instances);

    private Counters Mine => ByClass.GetOrAdd(GetType(), _ => new Counters());

    public string Hit()
    {
        _hit = true;
        return $"instance={_instance} calls={Interlocked.Increment(ref _calls)}";
    }

    public int HitInstancesDisposed() => Volatile.Read(ref Mine.HitInstancesDisposed);

    // Task-based, so a waiting call holds no thread: blocked pool threads would make Multiple's calls start late
    // (the pool adds threads slowly) and measure the machine, not the concurrency mode.
    public async Task<int> OverlapAsync(string gateId, int size, int timeoutMs)
    {
        // Bounded: at most 64 calls wait on a gate, never longer than 30 s, so a bad argument cannot pin the pool.
        var gate = Gates.GetOrAdd(gateId, _ => new Gate(Math.Clamp(size, 1, 64)));
        var running = Interlocked.Increment(ref gate.Running);
        for (var most = Volatile.Read(ref gate.MostRunning); running > most; most = Volatile.Read(ref gate.MostRunning))
            if (Interlocked.CompareExchange(ref gate.MostRunning, running, most) == most) break;
        if (Interlocked.Increment(ref gate.Arrived) >= gate.Size) gate.AllIn.TrySetResult();
        // Under ConcurrencyMode.Single the others cannot come in while this one waits: the timeout ends the wait.
        await Task.WhenAny(gate.AllIn.Task, Task.Delay(Math.Clamp(timeoutMs, 0, 30_000))).ConfigureAwait(false);
        Interlocked.Decrement(ref gate.Running);
        return Volatile.Read(ref gate.MostRunning);
    }

    /// <summary>The same measure, blocking its thread while it waits, as many WCF services' operations do.</summary>
    public int OverlapBlocking(string gateId, int size, int timeoutMs) => OverlapAsync(gateId, size, timeoutMs).GetAwaiter().GetResult();

    public IAsyncResult BeginDelayedEcho(string text, int delayMs, AsyncCallback callback, object state)
    {
        var task = Task.Delay(Math.Clamp(delayMs, 0, 30_000)).ContinueWith(_ => text == "fault"
            ? throw new FaultException(new FaultReason("refused after the delay"), new FaultCode("Sender", new FaultCode("Delayed")), null)
            : $"{text} after {delayMs} ms", TaskScheduler.Default);
        // The APM contract: the IAsyncResult carries the caller's state, and the callback gets that same object.
        var result = task.ContinueWith((t, _) => t.GetAwaiter().GetResult(), state, TaskScheduler.Default);
        result.ContinueWith(t => callback(t), TaskScheduler.Default);
        return result;
    }

    public string EndDelayedEcho(IAsyncResult result) => ((Task<string>)result).GetAwaiter().GetResult();

    public string Sleep(int ms)
    {
        Thread.Sleep(Math.Clamp(ms, 0, 30_000));
        return $"slept {ms} ms";
    }

    public void Dispose()
    {
        if (_hit) Interlocked.Increment(ref Mine.HitInstancesDisposed);
    }
}

/// <summary>A new instance for every call, disposed after it.</summary>
[ServiceBehavior(InstanceContextMode = InstanceContextMode.PerCall)]
public sealed class PerCallInstancingService : InstancingService;

/// <summary>One instance for every call of every session.</summary>
[ServiceBehavior(InstanceContextMode = InstanceContextMode.Single)]
public sealed class SingleInstancingService : InstancingService;

/// <summary>WCF's defaults: an instance per session, its calls one at a time.</summary>
[ServiceBehavior(InstanceContextMode = InstanceContextMode.PerSession, ConcurrencyMode = ConcurrencyMode.Single)]
public sealed class SessionInstancingService : InstancingService;

/// <summary>An instance per session whose calls run at once.</summary>
[ServiceBehavior(InstanceContextMode = InstanceContextMode.PerSession, ConcurrencyMode = ConcurrencyMode.Multiple)]
public sealed class MultipleInstancingService : InstancingService;

[ServiceContract(Namespace = "urn:akkaportshare:samples")]
public interface IInstancingService
{
    /// <summary>"instance=N calls=M": which instance of the class answered, and how many calls it has taken.</summary>
    [OperationContract] string Hit();

    /// <summary>How many instances that took a Hit were disposed so far.</summary>
    [OperationContract] int HitInstancesDisposed();

    /// <summary>Waits until <paramref name="size"/> calls of gate <paramref name="gateId"/> are in (at most
    /// <paramref name="timeoutMs"/>), then answers the most of them that ran at once.</summary>
    [OperationContract] Task<int> OverlapAsync(string gateId, int size, int timeoutMs);

    /// <summary><see cref="OverlapAsync"/>, synchronous: the calls that wait hold a thread each.</summary>
    [OperationContract] int OverlapBlocking(string gateId, int size, int timeoutMs);

    /// <summary>A Begin/End (APM) operation: answers the text after the delay; "fault": End throws a FaultException.</summary>
    [OperationContract(AsyncPattern = true)]
    IAsyncResult BeginDelayedEcho(string text, int delayMs, AsyncCallback callback, object state);

    string EndDelayedEcho(IAsyncResult result);

    /// <summary>Blocks for <paramref name="ms"/> (an operation slower than an endpoint's SendTimeout).</summary>
    [OperationContract] string Sleep(int ms);
}
