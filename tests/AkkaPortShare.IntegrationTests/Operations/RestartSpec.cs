using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AkkaPortShare.Interop;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Operations;

/// <summary>
/// A router restart refuses nothing: the listening socket outlives the router process, as systemd socket
/// activation keeps it (LISTEN_FDS). The test plays systemd: it holds the socket and passes it to each router
/// generation as descriptor 3, while a client makes connections in a loop through two restarts (SIGTERM, then the
/// next router). New connections wait in the backlog; the new router routes them once the worker has registered
/// again (restart-grace), and the old one drains what it accepted before it exits.
/// </summary>
public sealed class RestartSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Connections_made_in_a_loop_through_two_router_restarts_are_never_refused_and_all_served()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/bin/bash")) return;
        using var host = new PortShareHost();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, host.Port));
        listener.Listen(512);
        var config = host.WriteConfig($$"""
            akka-port-share.router { port = {{host.Port}}, listen-address = "127.0.0.1" }
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{host.RemotingPort}} }
            """);

        var routers = new List<ManagedProcess>(); // each generation is killed at the end, whatever happened
        using var cleanup = new Disposer(routers);
        var router = await StartActivatedAsync(listener, config, "router-1");
        routers.Add(router);
        await host.StartWorkerAsync("w", "echo/");

        using var loop = new ConnectionLoop(host);

        var restarts = new List<string>();
        for (var generation = 2; generation <= 3; generation++)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            var before = loop.Served;
            router.Signal("TERM");
            Assert.True(await router.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"router did not stop:\n{router.Tail(30)}");
            Assert.Equal(0, router.ExitCode);
            router = await StartActivatedAsync(listener, config, $"router-{generation}");
            routers.Add(router);
            restarts.Add($"restart {generation - 1}: {loop.Served - before} served meanwhile");
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        await loop.StopAsync();

        loop.AssertNothingRefusedOrFailed(output, restarts);
        Assert.Contains("(socket passed by the service manager)", router.Output);
    }

    /// <summary>
    /// Without systemd: each new router takes the listening socket from the running one (akkaportshare --takeover,
    /// through its control socket), which drains and exits 0; the new one starts on the same socket once the old has
    /// gone. Connections made meanwhile wait in the backlog.
    /// </summary>
    [Fact]
    public async Task Connections_made_in_a_loop_through_two_takeovers_without_systemd_are_never_refused_and_all_served()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var host = new PortShareHost();
        var config = host.WriteConfig($$"""
            akka-port-share.router { port = {{host.Port}}, listen-address = "127.0.0.1" }
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{host.RemotingPort}} }
            """);
        var routers = new List<ManagedProcess>();
        using var cleanup = new Disposer(routers);
        var router = ManagedProcess.StartDll("router-1", Binaries.Router, "--config", config);
        routers.Add(router);
        await router.WaitForLineAsync("Control socket", Timeout);
        await host.StartWorkerAsync("w", "echo/");
        using var loop = new ConnectionLoop(host);

        var restarts = new List<string>();
        for (var generation = 2; generation <= 3; generation++)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            var before = loop.Served;
            var next = ManagedProcess.StartDll($"router-{generation}", Binaries.Router, "--config", config, "--takeover");
            routers.Add(next);
            Assert.True(await router.WaitForExitAsync(Timeout), $"the old router did not exit:\n{router.Tail(30)}\n{next.Tail(30)}");
            Assert.Equal(0, router.ExitCode);
            Assert.Contains("Handed the listening socket", router.Output);
            await next.WaitForLineAsync("Listening on .*taken over from the previous router", Timeout);
            await next.WaitForLineAsync("Control socket", Timeout);
            router = next;
            restarts.Add($"takeover {generation - 1}: {loop.Served - before} served meanwhile");
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        await loop.StopAsync();

        loop.AssertNothingRefusedOrFailed(output, restarts);
    }

    // What systemd does for a .socket unit: the listening socket becomes descriptor 3 of the new process, with
    // LISTEN_PID (the exec'd process keeps the shell's pid) and LISTEN_FDS set.
    private async Task<ManagedProcess> StartActivatedAsync(Socket listener, string config, string name)
    {
        var fd = (int)listener.SafeHandle.DangerousGetHandle();
        ManagedProcess router;
        InheritedSockets.SetInheritable(listener, true);
        try
        {
            var moveTo3 = fd == 3 ? "" : $"exec 3<&{fd} {fd}<&-; ";
            router = ManagedProcess.StartCommand(name, "/bin/bash", null, "-c",
                moveTo3 + "export LISTEN_PID=$$ LISTEN_FDS=1; exec dotnet \"$0\" --config \"$1\"", Binaries.Router, config);
        }
        finally
        {
            InheritedSockets.SetInheritable(listener, false); // only this child: other tests' processes must not hold it
        }
        await router.WaitForLineAsync("Listening on", Timeout);
        output.WriteLine($"{name} pid {router.Id} listening");
        return router;
    }

    /// <summary>A client making connections one after another (bounded in count) and calling the echo worker "w".</summary>
    private sealed class ConnectionLoop : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _failures = [];
        private readonly Task _loop;
        private int _served, _refused;
        private TimeSpan _longest;

        public ConnectionLoop(PortShareHost host) => _loop = Task.Run(() => Run(host));

        public int Served => Volatile.Read(ref _served);

        private async Task Run(PortShareHost host)
        {
            for (var i = 0; i < 100_000 && !_stop.IsCancellationRequested; i++)
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    using var client = await FramingClient.ConnectAsync(host.Port);
                    var fault = await client.OpenAsync(host.Via("echo/svc"));
                    if (fault is not null) { lock (_failures) _failures.Add($"fault {fault}"); continue; }
                    if (await client.CallAsync("whoami") != "w") { lock (_failures) _failures.Add("wrong worker"); continue; }
                    Interlocked.Increment(ref _served);
                    if (watch.Elapsed > _longest) _longest = watch.Elapsed;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    _refused++;
                    await Task.Delay(10);
                }
                catch (Exception e)
                {
                    lock (_failures) _failures.Add($"{e.GetType().Name}: {e.Message}");
                    await Task.Delay(10);
                }
            }
        }

        public async Task StopAsync()
        {
            _stop.Cancel();
            await _loop;
        }

        public void AssertNothingRefusedOrFailed(ITestOutputHelper output, IEnumerable<string> restarts)
        {
            output.WriteLine($"{_served} served, {_refused} refused, {_failures.Count} failed; longest connection {_longest.TotalMilliseconds:F0} ms");
            foreach (var line in restarts.Concat(_failures.Take(10))) output.WriteLine(line);
            Assert.Equal(0, _refused);
            Assert.Empty(_failures);
            Assert.True(_served > 10, $"only {_served} connections served");
        }

        public void Dispose() => _stop.Cancel();
    }

    private sealed class Disposer(List<ManagedProcess> processes) : IDisposable
    {
        public void Dispose() => processes.ForEach(p => p.Dispose());
    }
}
