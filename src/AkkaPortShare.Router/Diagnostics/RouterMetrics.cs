using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Diagnostics.Metrics;
using Akka.Actor;
using AkkaPortShare.Router.Connections;

namespace AkkaPortShare.Router.Diagnostics;

/// <summary>
/// The router's counters (System.Diagnostics.Metrics, meter <c>AkkaPortShare.Router</c>), named after the Windows
/// service's SMSvcHost counters and OpenTelemetry's conventions; visible in <c>dotnet-counters monitor
/// --counters AkkaPortShare.Router</c> and exportable with OpenTelemetry's <c>AddMeter("AkkaPortShare.Router")</c>.
/// One instance per actor system (an Akka extension); instruments are thread-safe, so actors record directly.
/// </summary>
public sealed class RouterMetrics : IExtension, IDisposable
{
    public const string MeterName = "AkkaPortShare.Router";

    private readonly Meter _meter = new(MeterName, typeof(RouterMetrics).Assembly.GetName().Version?.ToString());
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _dispatched;
    private readonly Counter<long> _dispatchFailures;
    private readonly Counter<long> _protocolFailures;
    private readonly Counter<long> _shed;
    private readonly Counter<long> _urisRegistered;
    private readonly Counter<long> _urisUnregistered;
    private readonly Histogram<double> _handoverDuration;
    private readonly HeldConnections _held;
    private readonly ConcurrentDictionary<string, StrongBox<long>> _routedByAddress = new(StringComparer.Ordinal);
    private int _registrationsActive;
    // Totals since start, for `akkaportshare status` (the instruments above report to listeners, not to us).
    private long _totalAccepted, _totalDispatched, _totalDispatchFailures, _totalProtocolFailures, _totalShed,
        _totalUrisRegistered, _totalUrisUnregistered;

    internal RouterMetrics(HeldConnections held)
    {
        _held = held;
        _accepted = _meter.CreateCounter<long>("akkaportshare.router.connections.accepted", "{connection}",
            "Connections accepted on the shared port (SMSvcHost: Connections Accepted over net.tcp).");
        _dispatched = _meter.CreateCounter<long>("akkaportshare.router.connections.dispatched", "{connection}",
            "Connections handed to a worker or relayed, by base address and hand-over mode (Connections Dispatched).");
        _dispatchFailures = _meter.CreateCounter<long>("akkaportshare.router.dispatch.failures", "{connection}",
            "Connections that matched a registration but could not reach its worker (Dispatch Failures).");
        _protocolFailures = _meter.CreateCounter<long>("akkaportshare.router.protocol.failures", "{connection}",
            "Connections answered with a framing fault or closed for a bad preamble, by error.type (Protocol Failures).");
        _shed = _meter.CreateCounter<long>("akkaportshare.router.connections.shed", "{connection}",
            "Unrouted connections closed to make room (max-pending-connections).");
        _urisRegistered = _meter.CreateCounter<long>("akkaportshare.router.uris.registered", "{uri}",
            "Base addresses registered (Uris Registered).");
        _urisUnregistered = _meter.CreateCounter<long>("akkaportshare.router.uris.unregistered", "{uri}",
            "Base addresses unregistered or removed with their worker (Uris Unregistered).");
        _handoverDuration = _meter.CreateHistogram<double>("akkaportshare.router.handover.duration", "s",
            "From accepting a connection to handing it to its worker's channel (or starting its relay).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5] });
        _meter.CreateObservableUpDownCounter("akkaportshare.router.registrations.active", () => Volatile.Read(ref _registrationsActive),
            "{uri}", "Base addresses registered now (Registrations Active).");
        _meter.CreateObservableUpDownCounter("akkaportshare.router.connections.held", () => held.CountByStage()
            .Select(s => new Measurement<int>(s.Count, new KeyValuePair<string, object?>("akkaportshare.stage", s.Stage))),
            "{connection}", "Accepted connections the router still holds, by stage (max-held-connections).");
    }

    /// <summary>This actor system's meter (each system has its own: listeners can tell them apart).</summary>
    public Meter Meter => _meter;

    public static RouterMetrics Get(ActorSystem system) =>
        system.GetExtension<RouterMetrics>() ?? system.WithExtension<RouterMetrics, RouterMetricsProvider>();

    internal void Accepted()
    {
        _accepted.Add(1);
        Interlocked.Increment(ref _totalAccepted);
    }

    internal void Dispatched(string baseAddress, string mode, long acceptedAt)
    {
        _dispatched.Add(1, new KeyValuePair<string, object?>("akkaportshare.base_address", baseAddress),
            new KeyValuePair<string, object?>("akkaportshare.handover.mode", mode));
        _handoverDuration.Record(Stopwatch.GetElapsedTime(acceptedAt).TotalSeconds,
            new KeyValuePair<string, object?>("akkaportshare.handover.mode", mode));
        Interlocked.Increment(ref _totalDispatched);
        // One box per base address ever routed to: bounded by the registrations the router admitted.
        Interlocked.Increment(ref _routedByAddress.GetOrAdd(baseAddress, static _ => new StrongBox<long>()).Value);
    }

    /// <summary>Connections routed to this base address since the router started (status).</summary>
    internal long RoutedTo(string baseAddress) =>
        _routedByAddress.TryGetValue(baseAddress, out var box) ? Interlocked.Read(ref box.Value) : 0;

    /// <summary>Every counter's total since the router started, and what is held now (status).</summary>
    internal RouterCounters Snapshot() => new(
        Interlocked.Read(ref _totalAccepted), Interlocked.Read(ref _totalDispatched),
        Interlocked.Read(ref _totalDispatchFailures), Interlocked.Read(ref _totalProtocolFailures),
        Interlocked.Read(ref _totalShed), Volatile.Read(ref _registrationsActive),
        Interlocked.Read(ref _totalUrisRegistered), Interlocked.Read(ref _totalUrisUnregistered),
        _held.CountByStage().ToDictionary(s => s.Stage, s => s.Count));

    /// <summary>A fault sent on a connection: ConnectionDispatchFailed is a dispatch failure, the rest protocol failures.</summary>
    internal void Faulted(string faultUri)
    {
        var name = faultUri[(faultUri.LastIndexOf('/') + 1)..];
        if (name == "ConnectionDispatchFailed")
        {
            _dispatchFailures.Add(1);
            Interlocked.Increment(ref _totalDispatchFailures);
        }
        else
        {
            _protocolFailures.Add(1, new KeyValuePair<string, object?>("error.type", name));
            Interlocked.Increment(ref _totalProtocolFailures);
        }
    }

    /// <summary>A bad preamble closed without a fault (as WCF servers do for garbage and oversized vias).</summary>
    internal void ClosedForBadPreamble()
    {
        _protocolFailures.Add(1, new KeyValuePair<string, object?>("error.type", "bad_preamble"));
        Interlocked.Increment(ref _totalProtocolFailures);
    }

    internal void Shed()
    {
        _shed.Add(1, new KeyValuePair<string, object?>("error.type", "max_pending_connections"));
        Interlocked.Increment(ref _totalShed);
    }

    internal void UriRegistered()
    {
        _urisRegistered.Add(1);
        Interlocked.Increment(ref _totalUrisRegistered);
        Interlocked.Increment(ref _registrationsActive);
    }

    internal void UrisUnregistered(int count)
    {
        if (count == 0) return;
        _urisUnregistered.Add(count);
        Interlocked.Add(ref _totalUrisUnregistered, count);
        Interlocked.Add(ref _registrationsActive, -count);
    }

    public void Dispose() => _meter.Dispose();
}

/// <summary>The router's counters as totals since it started (the names are the instruments' without the prefix).</summary>
internal sealed record RouterCounters(long ConnectionsAccepted, long ConnectionsDispatched, long DispatchFailures,
    long ProtocolFailures, long ConnectionsShed, int RegistrationsActive, long UrisRegistered, long UrisUnregistered,
    IReadOnlyDictionary<string, int> ConnectionsHeld);

internal sealed class RouterMetricsProvider : ExtensionIdProvider<RouterMetrics>
{
    public override RouterMetrics CreateExtension(ExtendedActorSystem system)
    {
        var metrics = new RouterMetrics(HeldConnections.Get(system));
        system.RegisterOnTermination(metrics.Dispose);
        return metrics;
    }
}
