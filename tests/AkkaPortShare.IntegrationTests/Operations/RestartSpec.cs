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

        var served = 0;
        var refused = 0;
        var failures = new List<string>();
        var longest = TimeSpan.Zero;
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(async () =>
        {
            for (var i = 0; i < 100_000 && !stop.IsCancellationRequested; i++)
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    using var client = await FramingClient.ConnectAsync(host.Port);
                    var fault = await client.OpenAsync(host.Via("echo/svc"));
                    if (fault is not null) { lock (failures) failures.Add($"fault {fault}"); continue; }
                    if (await client.CallAsync("whoami") != "w") { lock (failures) failures.Add("wrong worker"); continue; }
                    served++;
                    if (watch.Elapsed > longest) longest = watch.Elapsed;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    refused++;
                    await Task.Delay(10);
                }
                catch (Exception e)
                {
                    lock (failures) failures.Add($"{e.GetType().Name}: {e.Message}");
                    await Task.Delay(10);
                }
            }
        });

        var restarts = new List<string>();
        for (var generation = 2; generation <= 3; generation++)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            var before = served;
            router.Signal("TERM");
            Assert.True(await router.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"router did not stop:\n{router.Tail(30)}");
            Assert.Equal(0, router.ExitCode);
            router = await StartActivatedAsync(listener, config, $"router-{generation}");
            routers.Add(router);
            restarts.Add($"restart {generation - 1}: {served - before} served meanwhile");
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        stop.Cancel();
        await loop;

        output.WriteLine($"{served} served, {refused} refused, {failures.Count} failed; longest connection {longest.TotalMilliseconds:F0} ms");
        foreach (var line in restarts.Concat(failures.Take(10))) output.WriteLine(line);
        Assert.Equal(0, refused);
        Assert.Empty(failures);
        Assert.True(served > 10, $"only {served} connections served");
        Assert.Contains("(socket passed by the service manager)", router.Output);
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

    private sealed class Disposer(List<ManagedProcess> processes) : IDisposable
    {
        public void Dispose() => processes.ForEach(p => p.Dispose());
    }
}
