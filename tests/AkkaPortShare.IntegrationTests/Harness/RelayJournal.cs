using System.Diagnostics;
using System.Text;

namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>
/// A test relay's timestamped events per connection (every chunk relayed, each cut and close), bounded (the oldest go first), so a failure shows when each
/// connection came, what crossed it and how it ended, beside the processes' own logs.
/// </summary>
internal sealed class RelayJournal
{
    private const int Capacity = 20_000;
    private readonly Queue<string> _events = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly DateTime _started = DateTime.UtcNow;

    public void Add(int connection, string what)
    {
        var at = _started + _clock.Elapsed;
        lock (_events)
        {
            if (_events.Count == Capacity) _events.Dequeue();
            _events.Enqueue($"{at:HH:mm:ss.fff} #{connection} {what}");
        }
    }

    public override string ToString()
    {
        lock (_events) return new StringBuilder().AppendJoin('\n', _events).ToString();
    }
}
