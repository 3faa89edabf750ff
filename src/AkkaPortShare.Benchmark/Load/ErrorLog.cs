namespace AkkaPortShare.Benchmark.Load;

/// <summary>Counts failures of one loop and keeps the first few messages for the report.</summary>
public sealed class ErrorLog
{
    private readonly List<string> _samples = [];
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public IReadOnlyList<string> Samples
    {
        get { lock (_samples) return [.. _samples]; }
    }

    public void Add(Exception e)
    {
        Interlocked.Increment(ref _count);
        lock (_samples)
            if (_samples.Count < 5) _samples.Add($"{e.GetType().Name}: {e.Message}");
    }

    public void Add(string message)
    {
        Interlocked.Increment(ref _count);
        lock (_samples)
            if (_samples.Count < 5) _samples.Add(message);
    }
}
