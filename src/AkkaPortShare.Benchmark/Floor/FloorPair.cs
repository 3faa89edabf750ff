using AkkaPortShare.TestSupport.Sockets;

namespace AkkaPortShare.Benchmark.Floor;

/// <summary>The floor's two processes (<see cref="FloorServers"/>): this benchmark's own executable in its floor modes.</summary>
internal sealed class FloorPair : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    public int RouterPort { get; }
    public int WorkerPort { get; }
    public ManagedProcess Router { get; }
    public ManagedProcess Worker { get; }

    private FloorPair(ManagedProcess router, ManagedProcess worker, int routerPort, int workerPort) =>
        (Router, Worker, RouterPort, WorkerPort) = (router, worker, routerPort, workerPort);

    public static async Task<FloorPair> StartAsync(string logDirectory)
    {
        var self = Path.Combine(AppContext.BaseDirectory, "AkkaPortShare.Benchmark.dll");
        var socketPath = Path.Combine(Path.GetTempPath(), $"aps-floor-{Environment.ProcessId}.sock");
        int routerPort = FreePort.BelowEphemeralRange(), workerPort = FreePort.BelowEphemeralRange();
        var worker = ManagedProcess.StartDllLogged("floor worker", self, ["floor-worker", $"{workerPort}", socketPath],
            Path.Combine(logDirectory, "floor-worker.log"));
        await worker.WaitForLineAsync($"floor-worker listening on {workerPort}", StartTimeout);
        var router = ManagedProcess.StartDllLogged("floor router", self, ["floor-router", $"{routerPort}", socketPath],
            Path.Combine(logDirectory, "floor-router.log"));
        await router.WaitForLineAsync($"floor-router listening on {routerPort}", StartTimeout);
        return new FloorPair(router, worker, routerPort, workerPort);
    }

    public void Dispose()
    {
        Router.Dispose();
        Worker.Dispose();
    }
}
