using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AkkaPortShare.TestSupport.Processes;
using AkkaPortShare.TestSupport.Security;
using AkkaPortShare.TestSupport.Sockets;

namespace AkkaPortShare.Benchmark.Topology;

/// <summary>
/// The processes under test, all on loopback: one router (handover-mode fd or relay, switched by restarting it on
/// the same ports; the worker re-registers by itself), one sample echo worker whose own listener is on a fixed
/// port, and HAProxy forwarding to that listener. Every path reaches the same worker.
/// With --cross-host the worker runs on a simulated host of its own (<see cref="SimulatedHosts"/>: a network
/// namespace on a bridge), registered by registration-secret with its hand-over socket on a private mount, so the
/// router relays to it as to another machine; the router's remoting listens on the bridge so the worker reaches it.
/// </summary>
public sealed class PortShareTopology : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly BenchmarkOptions _options;
    private readonly string _routerDll;
    private readonly string _workerDll;
    private readonly string _logDirectory;
    private readonly string _workerConfig;
    private ManagedProcess? _router;
    private ManagedProcess? _worker;
    private ManagedProcess? _haproxy;
    private Floor.FloorPair? _floor; // the floor paths' own two processes, when they are measured
    private int _starts;
    // --tls: the server certificate (made at start, files in a temporary directory removed with Dispose).
    private readonly TestCertificates? _certificates;
    // --cross-host: the worker's host (host 1; the router, HAProxy and the clients stay in this namespace).
    private readonly SimulatedHosts? _hosts;
    private const string CrossHostSecret = "benchmark-cross-host";
    private const string TwReuse = "/proc/sys/net/ipv4/tcp_tw_reuse";
    private readonly string? _twReuseBefore;

    public int RouterPort { get; } = FreePort.BelowEphemeralRange();
    public int RemotingPort { get; } = FreePort.BelowEphemeralRange();
    public int WorkerDataPort { get; } = FreePort.BelowEphemeralRange();
    public int HaproxyPort { get; } = FreePort.BelowEphemeralRange();
    public RouterMode? RouterMode { get; private set; }
    public bool WithHaproxy { get; private set; }

    /// <summary>The service's address as a client names it: the shared port. Every path sends this same preamble.</summary>
    public string Via => $"net.tcp://localhost:{RouterPort}/echo/";

    private string RegisteredAddress => $"net.tcp://+:{RouterPort}/echo/";
    private string RegisteredTlsAddress => $"net.tcp://+:{RouterPort}/{TlsPath}";

    /// <summary>--tls: the WCF echo endpoint with Transport security ("/echo/" in it, so HAProxy's rule routes it too).</summary>
    public const string TlsPath = "tls/echo/";

    /// <summary>--tls: the certificate the worker serves, which the clients trust (and nothing else).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2 ServerCertificate =>
        _certificates?.Server ?? throw new InvalidOperationException("the benchmark runs without --tls");

    /// <summary>--tls: the address a WCF client opens on this path (it connects to the port it names, the via).</summary>
    public Uri TlsAddressOf(BenchPath path) => new($"net.tcp://localhost:{EndPointOf(path).Port}/{TlsPath}");
    private string RouterAddress => $"akka.tcp://akkaportshare@{RemotingHost}:{RemotingPort}";

    /// <summary>Where the worker listens: loopback, or its simulated host's address.</summary>
    public IPAddress WorkerHost => _hosts?[0].Address ?? IPAddress.Loopback;

    // This namespace's address on the bridge (x.y.z.254) when the worker is on a namespace; else loopback.
    private string RemotingHost => _hosts is { Isolated: true } ? BridgeAddress(_hosts[0].Address) : "127.0.0.1";

    private static string BridgeAddress(IPAddress host)
    {
        var b = host.GetAddressBytes();
        return $"{b[0]}.{b[1]}.{b[2]}.254";
    }

    /// <summary>Where the worker is, for the report.</summary>
    public string Placement => _hosts is null ? "loopback" : _hosts.Isolated
        ? $"worker on {_hosts[0]}; router, HAProxy and clients in the root namespace ({BridgeAddress(_hosts[0].Address)}); net.ipv4.tcp_tw_reuse = 1 for the run"
        : $"worker on {_hosts[0]} (no namespaces: {_hosts.FallbackReason})";

    public PortShareTopology(BenchmarkOptions options, string routerDll, string workerDll, string logDirectory)
    {
        _options = options;
        _routerDll = routerDll;
        _workerDll = workerDll;
        _logDirectory = logDirectory;
        Directory.CreateDirectory(logDirectory);
        _workerConfig = Path.Combine(logDirectory, "worker.conf");
        _certificates = options.Tls ? new TestCertificates() : null;
        _hosts = options.CrossHost ? SimulatedHosts.Create(1) : null;
        // A relay (the router's or HAProxy's) closes first towards the worker when the client does, so each churned
        // connection leaves a TIME_WAIT on the relay's side, and one destination (the worker's ip:port) then runs out
        // of source ports at about 28,000 per minute: connects fail (EADDRNOTAVAIL) and clients get
        // ConnectionDispatchFailed. Linux reuses TIME_WAIT ports for new connections only on loopback by default
        // (tcp_tw_reuse = 2); a relay to other hosts needs 1 (see README, Cluster). Set for the run, restored after.
        if (_hosts is { Isolated: true } && File.Exists(TwReuse))
        {
            _twReuseBefore = File.ReadAllText(TwReuse).Trim();
            File.WriteAllText(TwReuse, "1");
        }
        var crossHostBlock = _hosts is null ? "" : $$"""
            # --cross-host: another host; admitted by secret, relayed.
            akka-port-share.worker { registration-secret = "{{CrossHostSecret}}", handover-directory = "{{Path.Combine(logDirectory, "handover")}}" }
            akka.remote.dot-netty.tcp { hostname = "{{WorkerHost}}", port = 0 }
            """;
        var tlsBlock = _certificates is null ? "" : $$"""
            # --tls: the TLS endpoint's server certificate, made by the benchmark at start.
            benchmark.tls { certificate-path = "{{_certificates.ServerPfxPath}}", certificate-password = "{{TestCertificates.PfxPassword}}" }
            """;
        // The reliable-session endpoints: one per transfer window, each with its own block (the window on the
        // worker's end; the client sets its own).
        var reliableBlocks = string.Concat(options.RmWindows.Distinct().Select(w =>
            $"{Scenarios.ReliableLoad.ConfigPath(w)} {{ max-transfer-window-size = {w}, flow-control-enabled = {(options.RmFlowControl ? "on" : "off")} }}\n"));
        File.WriteAllText(_workerConfig, $$"""
            # Written by the benchmark: the worker's own listener on a fixed loopback port, so HAProxy can target it.
            akka-port-share.worker.data-endpoint { hostname = "{{WorkerHost}}", port = {{WorkerDataPort}} }
            # The held scenario keeps up to --held sessions open at once (the default max-connections is 1000).
            akka-port-share.worker.max-connections = {{Math.Max(1000, options.HeldConnections + 1000)}}
            # --rm-message-size goes up to 60000 characters, past WCF's default MaxStringContentLength (8192).
            akka-port-share.service-model.max-string-content-length = 65536
            {{reliableBlocks}}
            {{tlsBlock}}
            {{crossHostBlock}}
            {{options.WorkerSettings ?? ""}}
            """);
    }

    public ManagedProcess Worker => _worker ?? throw new InvalidOperationException("the worker is not running");
    public ManagedProcess? Router => _router;
    public ManagedProcess? HaproxyProcess => _haproxy;

    public async Task StartAsync(RouterMode mode, bool withHaproxy)
    {
        WithHaproxy = withHaproxy;
        await StartRouterAsync(mode);
        await StartWorkerAsync();
        if (withHaproxy) await StartHaproxyAsync();
    }

    /// <summary>Stops every process and starts them all again (the way out when a start or switch failed).</summary>
    public async Task RestartAllAsync(RouterMode mode)
    {
        _haproxy?.Dispose();
        _worker?.Dispose();
        _router?.Dispose();
        (_haproxy, _worker, _router, RouterMode) = (null, null, null, null);
        await StartAsync(mode, WithHaproxy);
    }

    public IPEndPoint EndPointOf(BenchPath path) => path.Name switch
    {
        "direct" => new(WorkerHost, WorkerDataPort),
        "handover" or "relay" => new(IPAddress.Loopback, RouterPort),
        "haproxy" => new(IPAddress.Loopback, HaproxyPort),
        "floor-direct" => new(IPAddress.Loopback, FloorProcesses.WorkerPort),
        "floor-handover" => new(IPAddress.Loopback, FloorProcesses.RouterPort),
        _ => throw new ArgumentException($"unknown path {path.Name}"),
    };

    /// <summary>The process in front of the worker on this path (router or HAProxy); null for direct.</summary>
    public ManagedProcess? FrontOf(BenchPath path) => path.Name switch
    {
        "handover" or "relay" => _router,
        "haproxy" => _haproxy,
        "floor-handover" => FloorProcesses.Router,
        _ => null,
    };

    /// <summary>The process that serves this path's connections: the sample worker, or the floor's own.</summary>
    public ManagedProcess WorkerOf(BenchPath path) => path.IsFloor ? FloorProcesses.Worker : Worker;

    private Floor.FloorPair FloorProcesses => _floor ?? throw new InvalidOperationException("the floor paths are not running");

    /// <summary>Starts the floor paths' processes (see Floor.FloorServers); they run until the topology is disposed.</summary>
    public async Task StartFloorAsync() => _floor ??= await Floor.FloorPair.StartAsync(_logDirectory);

    /// <summary>Process ids of the router, the worker and HAProxy that are running now.</summary>
    public IEnumerable<int> ProcessIds() =>
        new[] { _router, _worker, _haproxy, _floor?.Router, _floor?.Worker }.Where(p => p is { HasExited: false }).Select(p => p!.Id).ToList();

    /// <summary>Names of the topology's processes that are no longer running, or null when all run.</summary>
    public string? Exited()
    {
        var exited = new List<string>();
        if (_router is { HasExited: true }) exited.Add("router");
        if (_worker is { HasExited: true }) exited.Add("worker");
        if (WithHaproxy && _haproxy is { HasExited: true }) exited.Add("haproxy");
        return exited.Count == 0 ? null : string.Join(", ", exited);
    }

    /// <summary>
    /// Starts again whatever process of the topology is no longer running (on a machine shared with others a
    /// broad pkill may hit them). Returns what was restarted, or null.
    /// </summary>
    public async Task<string?> EnsureRunningAsync()
    {
        if (Exited() is not { } exited) return null;
        var workerDead = _worker is { HasExited: true };
        if (workerDead)
        {
            _worker!.Dispose();
            _worker = null;
        }
        if (_router is { HasExited: true } && RouterMode is { } mode)
        {
            if (_worker is null)
            {
                _router.Dispose();
                await StartRouterAsync(mode);
            }
            else
            {
                RouterMode = null; // forces the restart, and waits for the worker's registration
                await EnsureRouterModeAsync(mode);
            }
        }
        if (workerDead) await StartWorkerAsync();
        if (WithHaproxy && _haproxy is { HasExited: true })
        {
            _haproxy.Dispose();
            await StartHaproxyAsync();
        }
        return exited;
    }

    /// <summary>Restarts the router in <paramref name="mode"/> if it runs in another; the same worker re-registers.</summary>
    public async Task EnsureRouterModeAsync(RouterMode mode)
    {
        if (RouterMode == mode && _router is { HasExited: false }) return;
        var from = Worker.LineCount;
        _router?.Dispose();
        await StartRouterAsync(mode);
        // Akka.Remote gates the lost router address for 5 s; the worker's registration retries get through after it.
        await Worker.WaitForLineAsync($"Registered {Regex.Escape(RegisteredAddress)} with the router", StartTimeout, from);
        if (_options.Tls) await Worker.WaitForLineAsync($"Registered {Regex.Escape(RegisteredTlsAddress)} with the router", StartTimeout, from);
    }

    /// <summary>
    /// Fresh processes for a memory figure: a new worker (and a new router in the path's mode, and a new HAProxy
    /// for its path), so resident memory is not the high-water mark left by an earlier scenario.
    /// </summary>
    public async Task RestartFreshAsync(BenchPath path)
    {
        _worker?.Dispose();
        _worker = null;
        var mode = path.RequiresRouter ?? RouterMode ?? Topology.RouterMode.Fd;
        if (path.RequiresRouter is not null || _router is not { HasExited: false })
        {
            _router?.Dispose();
            await StartRouterAsync(mode);
        }
        await StartWorkerAsync();
        if (path.Name == BenchPath.Haproxy.Name || (WithHaproxy && _haproxy is not { HasExited: false }))
        {
            _haproxy?.Dispose();
            await StartHaproxyAsync();
        }
    }

    private async Task StartRouterAsync(RouterMode mode)
    {
        var config = Path.Combine(_logDirectory, $"router-{mode.ToString().ToLowerInvariant()}.conf");
        await File.WriteAllTextAsync(config, $$"""
            # Written by the benchmark: the router on loopback ports chosen for this run.
            akka-port-share.router {
              port = {{RouterPort}}
              listen-address = "127.0.0.1"
              # --cross-host: nothing crosses hosts but bytes, whatever the path asks for.
              handover-mode = {{(_hosts is null ? mode.ToString().ToLowerInvariant() : "relay")}}
              # The held scenario keeps up to --held relayed sessions open at once.
              max-relayed-connections = {{Math.Max(1000, _options.HeldConnections + 1000)}}
              {{(_options.RelayEngine is { } engine ? $"relay-engine = {engine}" : "")}}
              {{_options.RouterSettings ?? ""}}
            }
            akka.remote.dot-netty.tcp { hostname = "{{RemotingHost}}", port = {{RemotingPort}} }
            {{(_hosts is null ? "" : $"akka-port-share.router.registration-secret = \"{CrossHostSecret}\"")}}
            """);
        var n = Interlocked.Increment(ref _starts);
        _router = ManagedProcess.StartDllLogged($"router ({mode})", _routerDll, ["--config", config],
            Path.Combine(_logDirectory, $"{n:D2}-router-{mode.ToString().ToLowerInvariant()}.log"));
        await _router.WaitForLineAsync("Listening on", StartTimeout);
        RouterMode = mode;
    }

    private async Task StartWorkerAsync()
    {
        var n = Interlocked.Increment(ref _starts);
        string[] args =
            ["--address", RegisteredAddress, "--router", RouterAddress, "--identity", "benchmark-worker", "--config", _workerConfig,
                "--wcf-address", $"net.tcp://+:{RouterPort}/{Scenarios.ReliableLoad.PlainPath}",
                .. _options.RmWindows.Distinct().SelectMany(w => (string[])["--wcf-reliable",
                    $"net.tcp://+:{RouterPort}/{Scenarios.ReliableLoad.ReliablePath(w)}", Scenarios.ReliableLoad.ConfigPath(w)]),
                .. _options.Tls ? (string[])["--wcf-endpoint", RegisteredTlsAddress, "security=transport,transport-security-path=benchmark.tls"] : []];
        _worker = _hosts is null
            ? ManagedProcess.StartDllLogged("echo worker", _workerDll, args, Path.Combine(_logDirectory, $"{n:D2}-worker.log"))
            : _hosts[0].StartDll("echo worker", _workerDll, args, privateDirectory: Path.Combine(_logDirectory, "handover"));
        await _worker.WaitForLineAsync($"listening on {Regex.Escape(WorkerHost.ToString())}:{WorkerDataPort}", StartTimeout);
        await _worker.WaitForLineAsync($"Registered {Regex.Escape(RegisteredAddress)} with the router", StartTimeout);
        foreach (var window in _options.RmWindows.Distinct())
            await _worker.WaitForLineAsync($"Registered {Regex.Escape($"net.tcp://+:{RouterPort}/{Scenarios.ReliableLoad.ReliablePath(window)}")} with the router", StartTimeout);
        if (_options.Tls) await _worker.WaitForLineAsync($"Registered {Regex.Escape(RegisteredTlsAddress)} with the router", StartTimeout);
    }

    private async Task StartHaproxyAsync()
    {
        var n = Interlocked.Increment(ref _starts);
        // Room for the held connections, but never more than the open-file limit allows (2 descriptors each).
        var limit = Scenarios.HeldConnectionsScenario.OpenFileLimit() ?? 1_000_000;
        var maxConn = (int)Math.Max(1000, Math.Min(_options.HeldConnections + 500, (limit - 100) / 2));
        _haproxy = ManagedProcess.StartLogged("haproxy", _options.Haproxy, ["-db", "-f", _options.HaproxyConfig],
            Path.Combine(_logDirectory, $"{n:D2}-haproxy.log"),
            new Dictionary<string, string>
            {
                ["BENCH_HAPROXY_PORT"] = HaproxyPort.ToString(),
                ["BENCH_WORKER_PORT"] = WorkerDataPort.ToString(),
                ["BENCH_WORKER_HOST"] = WorkerHost.ToString(),
                ["BENCH_HAPROXY_MAXCONN"] = maxConn.ToString(),
            });
        // HAProxy prints nothing when ready: wait until its port accepts.
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (_haproxy.HasExited)
                throw new InvalidOperationException($"HAProxy exited at start:\n{_haproxy.Tail()}");
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, HaproxyPort));
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public void Dispose()
    {
        _floor?.Dispose();
        _haproxy?.Dispose();
        _worker?.Dispose();
        _router?.Dispose();
        _certificates?.Dispose();
        _hosts?.Dispose();
        if (_twReuseBefore is not null) File.WriteAllText(TwReuse, _twReuseBefore);
    }
}
