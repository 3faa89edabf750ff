using System.Net;
using System.Net.Sockets;

namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>
/// A TCP relay on loopback that cuts every connection (with a reset) after a random number of bytes, seeded, so a
/// reliable session above it keeps losing its transport mid-message. Counts the connections and the cuts.
/// </summary>
public sealed class CuttingRelay : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Random _random;
    private readonly int _target;
    private readonly int _minBytes;
    private readonly int _maxBytes;
    private int _connections;
    private int _cuts;

    public CuttingRelay(int targetPort, int seed, int minBytes, int maxBytes)
    {
        _target = targetPort;
        _random = new Random(seed);
        _minBytes = minBytes;
        _maxBytes = maxBytes;
        _listener.Start();
        _ = AcceptLoop();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public int Connections => Volatile.Read(ref _connections);
    public int Cuts => Volatile.Read(ref _cuts);

    private async Task AcceptLoop()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stopping.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            Interlocked.Increment(ref _connections);
            int budget;
            lock (_random) budget = _random.Next(_minBytes, _maxBytes);
            _ = RelayAsync(client, budget);
        }
    }

    private async Task RelayAsync(Socket client, int budget)
    {
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var cut = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var used = 0;
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _target, cut.Token);
            async Task Pump(Socket from, Socket to)
            {
                var buffer = new byte[4096];
                while (true)
                {
                    var n = await from.ReceiveAsync(buffer, SocketFlags.None, cut.Token);
                    if (n == 0) return;
                    if (Interlocked.Add(ref used, n) > budget)
                    {
                        Interlocked.Increment(ref _cuts);
                        return;
                    }
                    await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, cut.Token);
                }
            }
            await Task.WhenAny(Pump(client, upstream), Pump(upstream, client));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            cut.Cancel();
            // A reset, not a FIN: the connection dies the way a broken network kills it.
            client.LingerState = new LingerOption(true, 0);
            client.Dispose();
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Stop();
    }
}
