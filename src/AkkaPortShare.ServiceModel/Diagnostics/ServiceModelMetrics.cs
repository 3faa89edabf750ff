using System.Diagnostics.Metrics;
using Akka.Actor;

namespace AkkaPortShare.ServiceModel.Diagnostics;

/// <summary>
/// WCF's service counters for the contracts a worker serves (System.Diagnostics.Metrics, meter
/// <c>AkkaPortShare.ServiceModel</c>): calls, failed and faulted calls, call duration, calls outstanding, sessions,
/// reliable sessions faulted and reliable messages dropped, named after OpenTelemetry's conventions; visible in
/// <c>dotnet-counters monitor --counters AkkaPortShare.ServiceModel</c>. One instance per actor system (an Akka
/// extension); instruments are thread-safe, so actors and their dispatch tasks record directly, through the
/// <see cref="EndpointMetrics"/> of their endpoint, which adds its attributes.
/// </summary>
public sealed class ServiceModelMetrics : IExtension, IDisposable
{
    public const string MeterName = "AkkaPortShare.ServiceModel";

    private readonly Meter _meter = new(MeterName, typeof(ServiceModelMetrics).Assembly.GetName().Version?.ToString());

    internal ServiceModelMetrics()
    {
        CallsStarted = _meter.CreateCounter<long>("akkaportshare.service.calls.started", "{call}",
            "Operation calls dispatched to the implementation actor, one-way ones included (WCF: Calls).");
        CallsFailed = _meter.CreateCounter<long>("akkaportshare.service.calls.failed", "{call}",
            "Calls the service did not answer: timeout, failure, wrong answer, unreadable arguments; by error.type (WCF: Calls Failed).");
        CallsFaulted = _meter.CreateCounter<long>("akkaportshare.service.calls.faulted", "{call}",
            "Calls the service answered with an OperationFault (a FaultException at the client) (WCF: Calls Faulted).");
        CallsOutstanding = _meter.CreateUpDownCounter<long>("akkaportshare.service.calls.outstanding", "{call}",
            "Request/reply calls waiting for the implementation's answer (WCF: Calls Outstanding).");
        CallDuration = _meter.CreateHistogram<double>("akkaportshare.service.call.duration", "s",
            "From dispatching a request/reply call to its answer (WCF: Calls Duration).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        SessionsStarted = _meter.CreateCounter<long>("akkaportshare.service.sessions.started", "{session}",
            "Service sessions begun, by akkaportshare.session.kind: framing (a connection's session) or reliable (WCF: Instances Created).");
        SessionsActive = _meter.CreateUpDownCounter<long>("akkaportshare.service.sessions.active", "{session}",
            "Service sessions live now, by akkaportshare.session.kind (WCF: Instances).");
        ReliableSessionsFaulted = _meter.CreateCounter<long>("akkaportshare.service.reliable_sessions.faulted", "{session}",
            "Reliable sessions ended by a WS-RM fault, by error.type (WCF: Reliable Messaging Sessions Faulted).");
        ReliableMessagesDropped = _meter.CreateCounter<long>("akkaportshare.service.reliable_messages.dropped", "{message}",
            "Reliable messages dropped: duplicate, beyond_window (no room), sequence_closed (WCF: Reliable Messaging Messages Dropped).");
    }

    internal Counter<long> CallsStarted { get; }
    internal Counter<long> CallsFailed { get; }
    internal Counter<long> CallsFaulted { get; }
    internal UpDownCounter<long> CallsOutstanding { get; }
    internal Histogram<double> CallDuration { get; }
    internal Counter<long> SessionsStarted { get; }
    internal UpDownCounter<long> SessionsActive { get; }
    internal Counter<long> ReliableSessionsFaulted { get; }
    internal Counter<long> ReliableMessagesDropped { get; }

    /// <summary>This actor system's meter (each system has its own: listeners can tell them apart).</summary>
    public Meter Meter => _meter;

    public static ServiceModelMetrics Get(ActorSystem system) =>
        system.GetExtension<ServiceModelMetrics>() ?? system.WithExtension<ServiceModelMetrics, ServiceModelMetricsProvider>();

    /// <summary>The counters of one endpoint: a contract served at a base address.</summary>
    internal EndpointMetrics ForEndpoint(string baseAddress, string contractName) => new(this, baseAddress, contractName);

    public void Dispose() => _meter.Dispose();
}

internal sealed class ServiceModelMetricsProvider : ExtensionIdProvider<ServiceModelMetrics>
{
    public override ServiceModelMetrics CreateExtension(ExtendedActorSystem system)
    {
        var metrics = new ServiceModelMetrics();
        system.RegisterOnTermination(metrics.Dispose);
        return metrics;
    }
}
