using System.Diagnostics.Metrics;
using Akka.Actor;
using AkkaPortShare.Worker.Sessions;

namespace AkkaPortShare.Worker.Diagnostics;

/// <summary>
/// The worker library's counters (System.Diagnostics.Metrics, meter <c>AkkaPortShare.Worker</c>): what the framing
/// layer sees of the connections the router handed over, named after OpenTelemetry's conventions; visible in
/// <c>dotnet-counters monitor --counters AkkaPortShare.Worker</c>. WCF's service counters (calls, faults, reliable
/// sessions) are the service layer's, in <c>AkkaPortShare.ServiceModel</c>. One instance per actor system (an Akka
/// extension); instruments are thread-safe, so the connection actors record directly.
/// </summary>
public sealed class WorkerMetrics : IExtension, IDisposable
{
    public const string MeterName = "AkkaPortShare.Worker";

    private const string BaseAddressKey = "akkaportshare.base_address";

    private readonly Meter _meter = new(MeterName, typeof(WorkerMetrics).Assembly.GetName().Version?.ToString());
    private readonly Counter<long> _sessionsStarted;
    private readonly Counter<long> _messagesReceived;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _protocolFailures;
    private int _sessionsActive;

    internal WorkerMetrics(ConnectionBudget budget)
    {
        _sessionsStarted = _meter.CreateCounter<long>("akkaportshare.worker.sessions.started", "{session}",
            "Framing sessions opened (preamble acknowledged), by base address and framing mode.");
        _meter.CreateObservableUpDownCounter("akkaportshare.worker.sessions.active", () => Volatile.Read(ref _sessionsActive),
            "{session}", "Framing sessions open now.");
        _meter.CreateObservableUpDownCounter("akkaportshare.worker.connections.active", () => budget.Connections,
            "{connection}", "Connections this worker holds now, counted against max-connections.");
        _refused = _meter.CreateCounter<long>("akkaportshare.worker.connections.refused", "{connection}",
            "Connections answered with ServerTooBusy because max-connections were open (error.type).");
        _protocolFailures = _meter.CreateCounter<long>("akkaportshare.worker.protocol.failures", "{connection}",
            "Connections answered with a framing fault for what the client sent, by error.type (the fault's name).");
        _messagesReceived = _meter.CreateCounter<long>("akkaportshare.worker.messages.received", "{message}",
            "Whole messages delivered to a service (sized envelopes, and streamed messages as they begin), by base address.");
    }

    /// <summary>This actor system's meter (each system has its own: listeners can tell them apart).</summary>
    public Meter Meter => _meter;

    public static WorkerMetrics Get(ActorSystem system) =>
        system.GetExtension<WorkerMetrics>() ?? system.WithExtension<WorkerMetrics, WorkerMetricsProvider>();

    internal void SessionStarted(string baseAddress, string mode)
    {
        _sessionsStarted.Add(1, new KeyValuePair<string, object?>(BaseAddressKey, baseAddress),
            new KeyValuePair<string, object?>("akkaportshare.framing.mode", mode));
        Interlocked.Increment(ref _sessionsActive);
    }

    internal void SessionEnded() => Interlocked.Decrement(ref _sessionsActive);

    /// <summary>Framing sessions in progress now (a pooled connection between sessions is not in one).</summary>
    internal int SessionsActive => Volatile.Read(ref _sessionsActive);

    internal void MessageReceived(string baseAddress) =>
        _messagesReceived.Add(1, new KeyValuePair<string, object?>(BaseAddressKey, baseAddress));

    /// <summary>A framing fault the worker sent: ServerTooBusy is a refusal, the rest protocol failures.</summary>
    internal void Faulted(string faultUri)
    {
        var name = faultUri[(faultUri.LastIndexOf('/') + 1)..];
        var errorType = new KeyValuePair<string, object?>("error.type", name);
        if (name == "ServerTooBusy") _refused.Add(1, errorType);
        else _protocolFailures.Add(1, errorType);
    }

    public void Dispose() => _meter.Dispose();
}

internal sealed class WorkerMetricsProvider : ExtensionIdProvider<WorkerMetrics>
{
    public override WorkerMetrics CreateExtension(ExtendedActorSystem system)
    {
        var metrics = new WorkerMetrics(ConnectionBudget.For(system));
        system.RegisterOnTermination(metrics.Dispose);
        return metrics;
    }
}
