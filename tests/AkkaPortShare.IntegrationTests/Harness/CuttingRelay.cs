using System.Net;
using System.Net.Sockets;

namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>
/// A TCP relay on loopback that cuts every connection (with a reset) after a random number of bytes, seeded, so a
/// reliable session above it keeps losing its transport mid-message. Counts the connections and the cuts. Given
/// several targets (routers of one cluster), it sends each new connection to the next one in turn, as a load
/// balancer in front of them would, so a session's reconnections land on another router each time.
/// </summary>
/// <remarks>
/// Client-to-server bytes are cut anywhere, mid-envelope included. Server-to-client bytes are cut only between
/// records and after the connection's first envelope (the cut waits for such a point): the WCF client on Linux
/// sometimes reads a reset as a plain end of stream (when its writer took the ECONNRESET first), its framing decoder
/// accepts an end of stream only after a whole envelope, and its ReliableChannelBinder treats the resulting
/// ProtocolException as fatal to the session. That is the client's limit, not the server's, whatever the server.
/// A plain end of stream does not fault the client's channel either, so it reconnects only when it next sends: a
/// client with nothing left to send waits for its keep-alive poll (<see cref="ReliableEchoLoop"/> shortens it).
/// </remarks>
public sealed class CuttingRelay : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Random _random;
    private readonly IReadOnlyList<IPEndPoint> _targets;
    private readonly int[] _perTarget;
    private readonly int _minBytes;
    private readonly int _maxBytes;
    private readonly RelayJournal _journal = new();
    private int _connections;
    private int _cuts;

    public CuttingRelay(int targetPort, int seed, int minBytes, int maxBytes)
        : this([new IPEndPoint(IPAddress.Loopback, targetPort)], seed, minBytes, maxBytes)
    {
    }

    public CuttingRelay(IReadOnlyList<IPEndPoint> targets, int seed, int minBytes, int maxBytes)
    {
        _targets = targets;
        _perTarget = new int[targets.Count];
        _random = new Random(seed);
        _minBytes = minBytes;
        _maxBytes = maxBytes;
        _listener.Start();
        _ = AcceptLoop();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public int Connections => Volatile.Read(ref _connections);
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>What happened to each connection, timestamped (for a failure's logs).</summary>
    public string Journal => _journal.ToString();

    /// <summary>Connections sent to each target, in the order the targets were given.</summary>
    public IReadOnlyList<int> ConnectionsPerTarget => Enumerable.Range(0, _perTarget.Length).Select(i => Volatile.Read(ref _perTarget[i])).ToList();

    private async Task AcceptLoop()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stopping.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            var number = Interlocked.Increment(ref _connections);
            var index = (number - 1) % _targets.Count;
            Interlocked.Increment(ref _perTarget[index]);
            int budget;
            lock (_random) budget = _random.Next(_minBytes, _maxBytes);
            _journal.Add(number, $"accepted from {client.RemoteEndPoint}, to {_targets[index]}, budget {budget} bytes");
            _ = RelayAsync(number, client, _targets[index], budget);
        }
    }

    private async Task RelayAsync(int number, Socket client, IPEndPoint target, int budget)
    {
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        // Held while server bytes are fed and forwarded, so the client side sees whole chunks or none.
        using var toClient = new SemaphoreSlim(1, 1);
        var downstream = new ServerRecordBoundaries();
        var used = 0;
        var cutDue = false; // the budget is spent: cut at the first point the client survives
        var wasCut = false;
        long up = 0, down = 0;
        bool Spend(int n) => Interlocked.Add(ref used, n) > budget;
        void Reset()
        {
            // A reset, not a FIN: the connection dies the way a broken network kills it.
            client.LingerState = new LingerOption(true, 0);
            client.Dispose();
        }
        void CutNow(string where)
        {
            _journal.Add(number, $"cut {where} after {Interlocked.Read(ref up)} bytes up, {Interlocked.Read(ref down)} down");
            wasCut = true;
            Interlocked.Increment(ref _cuts);
            Reset();
        }
        try
        {
            await upstream.ConnectAsync(target, stop.Token);
            _journal.Add(number, $"connected from {upstream.LocalEndPoint}");
            async Task ClientToServer()
            {
                var buffer = new byte[4096];
                while (true)
                {
                    var n = await client.ReceiveAsync(buffer, SocketFlags.None, stop.Token);
                    if (n == 0) { _journal.Add(number, "client ended"); return; }
                    _journal.Add(number, $"{n} bytes from the client");
                    if (Spend(n))
                    {
                        await toClient.WaitAsync(stop.Token);
                        try
                        {
                            // Drop this chunk (likely part of an envelope) and cut, if the client survives it now.
                            if (downstream.SafeToCut) { CutNow($"client-to-server, dropping {n} bytes"); return; }
                            Volatile.Write(ref cutDue, true);
                        }
                        finally { toClient.Release(); }
                    }
                    await upstream.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, stop.Token);
                    Interlocked.Add(ref up, n);
                }
            }
            async Task ServerToClient()
            {
                var buffer = new byte[4096];
                while (true)
                {
                    var n = await upstream.ReceiveAsync(buffer, SocketFlags.None, stop.Token);
                    if (n == 0) { _journal.Add(number, "server ended"); return; }
                    _journal.Add(number, $"{n} bytes from the server");
                    await toClient.WaitAsync(stop.Token);
                    try
                    {
                        if (wasCut) return;
                        var due = Spend(n) || Volatile.Read(ref cutDue);
                        var safeAt = downstream.Feed(buffer.AsSpan(0, n));
                        if (due && safeAt >= 0)
                        {
                            // Forward up to the first safe record boundary, then cut.
                            await client.SendAsync(buffer.AsMemory(0, safeAt), SocketFlags.None, stop.Token);
                            Interlocked.Add(ref down, safeAt);
                            CutNow($"server-to-client, dropping {n - safeAt} of {n} bytes");
                            return;
                        }
                        await client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, stop.Token);
                        Interlocked.Add(ref down, n);
                    }
                    finally { toClient.Release(); }
                }
            }
            await Task.WhenAny(ClientToServer(), ServerToClient());
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            if (!wasCut) _journal.Add(number, $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            _journal.Add(number, $"closed ({Interlocked.Read(ref up)} bytes up, {Interlocked.Read(ref down)} down)");
            stop.Cancel();
            // Either side ended on its own: pass it on as a reset too.
            if (!wasCut) Reset();
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Stop();
    }
}
