using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AkkaPortShare.Benchmark.Load;
using AkkaPortShare.Benchmark.Topology;
using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Benchmark.Scenarios;

/// <summary>
/// Streaming: a few long connections each pipeline 64 KiB envelopes (at most <c>window</c> unanswered at a time,
/// so neither side buffers without bound) while a second loop reads the echoes. The figure is echoed payload per
/// second (MB = 10^6 bytes, one direction; the same bytes also went the other way).
/// </summary>
public sealed class StreamingScenario : IScenario
{
    public string Name => "streaming";
    public string Group => "streaming";
    public string Title => "streaming, 64 KiB envelopes";
    public bool NeedsFreshProcesses => false;

    public IReadOnlyList<Metric> Metrics { get; } =
    [
        new("mb_per_s", "echoed payload", "MB/s", HigherIsBetter: true),
        new("front_cpu_pct", "router / HAProxy CPU", "% of a core", HigherIsBetter: false, HasDirectRatio: false),
    ];

    public bool AppliesTo(BenchPath path) => !path.IsFloor; // the floor is a yardstick for churn only

    public async Task<ScenarioResult> RunAsync(ScenarioContext context, BenchPath path, CancellationToken ct)
    {
        var options = context.Options;
        var endPoint = context.Topology.EndPointOf(path);
        var records = new ClientRecords(context.Topology.Via, options.StreamEnvelopeSize);
        var errors = new ErrorLog();
        var total = options.Warmup + options.StreamDuration;
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        hardStop.CancelAfter(total + TimeSpan.FromSeconds(15));
        var shared = new SharedCounters(options.StreamMaxEnvelopes);
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(total.TotalSeconds * Stopwatch.Frequency);

        var connections = Enumerable.Range(0, options.StreamConnections)
            .Select(_ => RunConnectionAsync(endPoint, records, options.StreamWindow, deadline, shared, errors, hardStop.Token))
            .ToArray();

        var front = context.Topology.FrontOf(path);
        await Task.Delay(options.Warmup, ct);
        var (t0, c0, cpu0) = (Stopwatch.GetTimestamp(), Interlocked.Read(ref shared.Echoed), front?.CpuTime());
        await Task.Delay(options.StreamDuration, ct);
        var (t1, c1, cpu1) = (Stopwatch.GetTimestamp(), Interlocked.Read(ref shared.Echoed), front?.CpuTime());
        await Task.WhenAll(connections);

        var result = new ScenarioResult { Operations = Interlocked.Read(ref shared.Echoed) }.WithErrors(errors);
        var seconds = (t1 - t0) / (double)Stopwatch.Frequency;
        if (c1 > c0) result.Values["mb_per_s"] = (c1 - c0) * (double)options.StreamEnvelopeSize / seconds / 1e6;
        if (cpu1 - cpu0 is { } cpu) result.Values["front_cpu_pct"] = cpu.TotalSeconds / seconds * 100;
        result.Extra["envelopes_echoed"] = c1 - c0;
        return result;
    }

    private sealed class SharedCounters(long max)
    {
        public long Echoed;
        public long Sent;
        public readonly long Max = max;
    }

    private static async Task RunConnectionAsync(IPEndPoint endPoint, ClientRecords records, int window, long deadline,
        SharedCounters shared, ErrorLog errors, CancellationToken ct)
    {
        try
        {
            using var socket = Wire.NewSocket();
            socket.ReceiveBufferSize = 1 << 20;
            socket.SendBufferSize = 1 << 20;
            await Wire.OpenSessionAsync(socket, endPoint, records, new byte[64], ct).ConfigureAwait(false);
            using var permits = new SemaphoreSlim(window, window);
            var receiving = ReceiveLoopAsync(socket, records, permits, shared, ct);
            var sending = SendLoopAsync(socket, records, permits, window, deadline, shared, ct);
            var first = await Task.WhenAny(receiving, sending).ConfigureAwait(false);
            if (first.IsFaulted) socket.Dispose(); // unblock the other loop
            await Task.WhenAll(receiving, sending).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            errors.Add(e);
        }
        catch (OperationCanceledException)
        {
            errors.Add("a streaming connection did not finish within 15 s after its deadline");
        }
    }

    private static async Task SendLoopAsync(Socket socket, ClientRecords records, SemaphoreSlim permits, int window,
        long deadline, SharedCounters shared, CancellationToken ct)
    {
        while (Stopwatch.GetTimestamp() < deadline && Interlocked.Increment(ref shared.Sent) <= shared.Max)
        {
            await permits.WaitAsync(ct).ConfigureAwait(false);
            await Wire.SendAllAsync(socket, records.Envelope, ct).ConfigureAwait(false);
        }
        // Every echo is back once all permits are ours again; then the session ends like a WCF client's Close().
        for (var i = 0; i < window; i++) await permits.WaitAsync(ct).ConfigureAwait(false);
        await Wire.SendAllAsync(socket, Wire.End, ct).ConfigureAwait(false);
    }

    // Reads echoes as a byte stream: at every record boundary the header must be exactly the one sent, and End
    // (after ours) finishes. Payload bytes are counted, not copied anywhere.
    private static async Task ReceiveLoopAsync(Socket socket, ClientRecords records, SemaphoreSlim permits,
        SharedCounters shared, CancellationToken ct)
    {
        var buffer = new byte[256 * 1024];
        var header = records.Envelope.AsMemory(0, records.HeaderSize);
        var recordLength = records.Envelope.Length;
        var position = 0; // within the current record
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0) throw new EndOfStreamException("the server closed the connection while streaming");
            for (var i = 0; i < n;)
            {
                if (position == 0 && buffer[i] == (byte)FramingRecordType.End)
                {
                    if (i + 1 != n) throw new InvalidDataException("bytes after the server's End");
                    return;
                }
                if (position < records.HeaderSize)
                {
                    if (buffer[i] != header.Span[position])
                        throw new InvalidDataException($"echo stream out of step: byte 0x{buffer[i]:X2} at header offset {position}");
                    position++;
                    i++;
                }
                else
                {
                    var take = Math.Min(n - i, recordLength - position);
                    position += take;
                    i += take;
                }
                if (position == recordLength)
                {
                    position = 0;
                    Interlocked.Increment(ref shared.Echoed);
                    permits.Release();
                }
            }
        }
    }
}
