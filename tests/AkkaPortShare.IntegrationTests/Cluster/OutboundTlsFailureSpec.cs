using System.Net;
using System.Net.Sockets;
using AkkaPortShare.IntegrationTests.Harness;
using AkkaPortShare.TestSupport.Security;

namespace AkkaPortShare.IntegrationTests.Cluster;

/// <summary>
/// A seed node whose port is held by something that drops every TLS handshake (a member that died mid-handshake, or
/// a local user's listener on a dead member's port): Akka.Remote 1.5 would end the router and the worker that dial it
/// (exit 79); OutboundTlsFailureGuard keeps both running. They form the cluster without the dead seed, the worker
/// registers and is routed to, and SIGTERM still ends both with 0 (the shutdown was re-armed).
/// </summary>
public sealed class OutboundTlsFailureSpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const string Guarded = "Not shutting down for Akka.Remote's";

    private readonly TestCertificates _certificates = new();
    private readonly PortShareHost _host = new();

    public void Dispose()
    {
        _host.Dispose();
        _certificates.Dispose();
    }

    [Fact]
    public async Task A_seed_that_drops_TLS_handshakes_ends_neither_the_router_nor_the_worker_that_dial_it()
    {
        using var dead = new HandshakeDropper();
        var pfx = _certificates.WriteNodePfx("aps-tls-guard-node");
        var environment = new Dictionary<string, string>
        {
            ["SSL_CERT_FILE"] = _certificates.CaPemPath,
            ["SSL_CERT_DIR"] = Directory.CreateTempSubdirectory("aps-no-roots-").FullName,
        };
        var routerRemoting = $"akka.ssl.tcp://akkaportshare@127.0.0.1:{_host.RemotingPort}";
        var seeds = $"[\"{routerRemoting}\", \"akka.ssl.tcp://akkaportshare@127.0.0.1:{dead.Port}\"]";
        var tls = $$"""
            akka.remote.dot-netty.tcp {
              enable-ssl = true
              ssl { suppress-validation = false, require-mutual-authentication = true,
                    certificate { path = "{{pfx}}", password = "{{TestCertificates.PfxPassword}}" } }
            }
            akka-port-share.cluster { enabled = on, seed-nodes = {{seeds}} }
            """;
        var routerConfig = _host.WriteConfig($$"""
            akka-port-share.router { port = {{_host.Port}}, listen-address = "127.0.0.1", control-socket = off }
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{_host.RemotingPort}} }
            {{tls}}
            """);
        using var router = ManagedProcess.StartDllAs("router", null, environment, Binaries.Router, "--config", routerConfig);
        await router.WaitForLineAsync("Listening on", Timeout);
        await router.WaitForLineAsync(Guarded, Timeout);

        var workerConfig = _host.WriteConfig($$"""
            akka-port-share.worker.handover-directory = "{{Directory.CreateTempSubdirectory("aps-tls-guard-handover-").FullName}}"
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            {{tls}}
            """);
        using var worker = ManagedProcess.StartDllAs("worker", null, environment, Binaries.EchoWorker,
            "--router", routerRemoting, "--identity", "w", "--config", workerConfig, "--address", _host.Address("echo/"));
        try
        {
            await worker.WaitForLineAsync($"Registered {PortShareHost.Regex(_host.Address("echo/"))} with the router", Timeout);
            await worker.WaitForLineAsync(Guarded, Timeout);

            using (var client = await FramingClient.ConnectAsync(IPAddress.Loopback, _host.Port))
            {
                Assert.Null(await client.OpenAsync(_host.Via("echo/svc")));
                Assert.Equal("w", await client.CallAsync("whoami"));
            }
            Assert.True(dead.Dropped > 0);
            Assert.False(router.HasExited);
            Assert.False(worker.HasExited);

            worker.Signal("TERM");
            router.Signal("TERM");
            Assert.True(await worker.WaitForExitAsync(Timeout), "worker still running after SIGTERM");
            Assert.True(await router.WaitForExitAsync(Timeout), "router still running after SIGTERM");
            Assert.Equal(0, worker.ExitCode);
            Assert.Equal(0, router.ExitCode);
        }
        catch (Exception e)
        {
            throw new Exception($"{e.Message}\n--- router ---\n{router.Tail(40)}\n--- worker ---\n{worker.Tail(40)}", e);
        }
    }

    /// <summary>Accepts on a loopback port and closes each connection before a TLS handshake can finish.</summary>
    private sealed class HandshakeDropper : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private int _dropped;

        public HandshakeDropper()
        {
            _listener.Start();
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        using var socket = await _listener.AcceptSocketAsync();
                        Interlocked.Increment(ref _dropped);
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { } // stopped
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Dropped => Volatile.Read(ref _dropped);

        public void Dispose() => _listener.Stop();
    }
}
