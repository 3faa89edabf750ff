namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>A router process and its workers on fresh ports, as an operator would run them.</summary>
public sealed class PortShareHost : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly List<ManagedProcess> _processes = [];
    private readonly List<string> _extraFiles = [];
    private readonly string _configFile = Path.Combine(Path.GetTempPath(), $"aps-router-{Guid.NewGuid():N}.conf");

    public int Port { get; } = FreePort.Next();
    public int RemotingPort { get; } = FreePort.Next();
    public string RouterAddress => $"akka.tcp://akkaportshare@127.0.0.1:{RemotingPort}";
    public ManagedProcess? Router { get; private set; }

    /// <summary>The router's HOCON file (written by <see cref="StartRouterAsync"/>), for commands such as status.</summary>
    public string ConfigFile => _configFile;

    public string Via(string path) => $"net.tcp://localhost:{Port}/{path}";
    public string Address(string path) => $"net.tcp://+:{Port}/{path}";

    public async Task<ManagedProcess> StartRouterAsync(string handoverMode = "auto", string extraHocon = "",
        IReadOnlyDictionary<string, string>? environment = null)
    {
        await File.WriteAllTextAsync(_configFile, $$"""
            akka-port-share.router { port = {{Port}}, listen-address = "127.0.0.1", handover-mode = {{handoverMode}} }
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{RemotingPort}} }
            {{extraHocon}}
            """);
        Router = Track(ManagedProcess.StartDllAs("router", null, environment, Binaries.Router, "--config", _configFile));
        await Router.WaitForLineAsync("Listening on", StartTimeout);
        return Router;
    }

    /// <summary>Starts an echo worker and waits until the router answered each of its registrations.</summary>
    public async Task<ManagedProcess> StartWorkerAsync(string identity, params string[] paths)
    {
        var worker = StartWorkerProcess(identity, paths);
        foreach (var path in paths)
            await worker.WaitForLineAsync($"Registered {Regex(Address(path))} with the router", StartTimeout);
        return worker;
    }

    public ManagedProcess StartWorkerProcess(string identity, params string[] paths) =>
        StartWorkerProcess(identity, paths.SelectMany(p => new[] { "--address", Address(p) }));

    /// <summary>Starts an echo worker with any sample arguments (e.g. --wcf-address) and waits for its registrations.</summary>
    public Task<ManagedProcess> StartWorkerAsync(string identity, IEnumerable<string> args, params string[] registeredPaths) =>
        StartWorkerAsync(identity, args, null, registeredPaths);

    /// <inheritdoc cref="StartWorkerAsync(string, IEnumerable{string}, string[])"/>
    /// <param name="environment">Variables set for the worker on top of this process's.</param>
    public async Task<ManagedProcess> StartWorkerAsync(string identity, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment, params string[] registeredPaths)
    {
        var worker = StartWorkerAs(identity, null, args, environment);
        foreach (var path in registeredPaths)
            await worker.WaitForLineAsync($"Registered {Regex(Address(path))} with the router", StartTimeout);
        return worker;
    }

    private ManagedProcess StartWorkerProcess(string identity, IEnumerable<string> args) => StartWorkerAs(identity, null, args);

    /// <summary>Starts an echo worker with any sample arguments, as another user when <paramref name="userId"/> is set; does not wait.</summary>
    public ManagedProcess StartWorkerAs(string identity, uint? userId, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null) =>
        Track(ManagedProcess.StartDllAs(identity, userId, environment, Binaries.EchoWorker,
            ["--router", RouterAddress, "--identity", identity, .. args]));

    /// <summary>Writes a HOCON file that lives as long as this host (for --config).</summary>
    public string WriteConfig(string hocon)
    {
        var path = Path.Combine(Path.GetTempPath(), $"aps-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, hocon);
        _extraFiles.Add(path);
        return path;
    }

    /// <summary>The last lines of every process, for a failure message.</summary>
    public string Tails(int lines = 40) =>
        string.Join("\n", _processes.Select(p => $"--- {p.Name} (last {lines} lines) ---\n{p.Tail(lines)}"));

    /// <summary>
    /// Runs <paramref name="test"/>; if it throws, the failure carries every process's last lines and names the
    /// directory that keeps their whole output (with <paramref name="extra"/>'s texts, read then).
    /// </summary>
    public void WithLogsOnFailure(Action test, Func<IReadOnlyDictionary<string, string>>? extra = null)
    {
        try { test(); }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            var texts = new Dictionary<string, string>(extra?.Invoke() ?? new Dictionary<string, string>()) { ["failure"] = e.ToString() };
            var saved = FailureLogs.Save(_processes, texts);
            throw new Xunit.Sdk.XunitException($"{e.GetType().Name}: {e.Message}\n{saved}\n{Tails()}\n{e}");
        }
    }

    public static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);

    private ManagedProcess Track(ManagedProcess process)
    {
        _processes.Add(process);
        return process;
    }

    public void Dispose()
    {
        foreach (var process in _processes) process.Dispose();
        File.Delete(_configFile);
        foreach (var file in _extraFiles) File.Delete(file);
    }
}
