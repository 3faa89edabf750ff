using System.Diagnostics.Metrics;

namespace AkkaPortShare.TestSupport.Diagnostics;

/// <summary>
/// Records what one <see cref="Meter"/> instance reports, for exact-count specs: each actor system has its own
/// meter, so specs running in parallel never see each other's measurements. Keys are the instrument's name followed
/// by its tags in order, <c>name|key=value|key=value</c>.
/// </summary>
public sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _totals = [];
    private readonly Dictionary<string, int> _gauges = [];
    private readonly Dictionary<string, int> _measurements = [];

    public MeterRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == meter) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (_totals) _totals[Key(instrument, tags)] = _totals.GetValueOrDefault(Key(instrument, tags)) + value;
        });
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            lock (_gauges) _gauges[instrument.Name] = value;
        });
        _listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            lock (_measurements) _measurements[Key(instrument, tags)] = _measurements.GetValueOrDefault(Key(instrument, tags)) + 1;
        });
        _listener.Start();
    }

    /// <summary>The sum a long counter reported under this key.</summary>
    public long Total(string key)
    {
        lock (_totals) return _totals.GetValueOrDefault(key);
    }

    /// <summary>How many values a double instrument (a histogram) recorded under this key.</summary>
    public int Measurements(string key)
    {
        lock (_measurements) return _measurements.GetValueOrDefault(key);
    }

    /// <summary>An observable int instrument's value now (its last measurement without tags); -1 when it reported none.</summary>
    public int Gauge(string name)
    {
        _listener.RecordObservableInstruments();
        lock (_gauges) return _gauges.GetValueOrDefault(name, -1);
    }

    private static string Key(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        instrument.Name + string.Concat(tags.ToArray().Select(t => $"|{t.Key}={t.Value}"));

    public void Dispose() => _listener.Dispose();
}
