using System.Globalization;
using System.Runtime.InteropServices;
using AkkaPortShare.Benchmark;
using AkkaPortShare.Benchmark.Reporting;
using AkkaPortShare.Benchmark.Scenarios;
using AkkaPortShare.Benchmark.Topology;

// The benchmark: the same sample echo worker reached four ways (direct, router hand-over, router relay, HAProxy),
// every scenario on every path in every repetition, results as Markdown and JSON. Exit code 0 when every path
// worked (no errors, a figure for every scenario), 1 otherwise, 2 when the set-up failed.
if (AkkaPortShare.Benchmark.Floor.FloorServers.RunIfAsked(args) is { } floorExit) return floorExit;
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

BenchmarkOptions options;
try
{
    options = BenchmarkOptions.Parse(args);
}
catch (BenchmarkOptions.HelpRequested)
{
    Console.WriteLine(BenchmarkOptions.Usage);
    return 0;
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"{e.Message}\n\n{BenchmarkOptions.Usage}");
    return 2;
}

// Whatever happens, the processes this benchmark started do not outlive it.
AppDomain.CurrentDomain.ProcessExit += (_, _) => ManagedProcess.KillAll();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => ManagedProcess.KillAll());
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => ManagedProcess.KillAll());

var repoRoot = Path.GetFullPath(options.RepoRoot);
var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0
var routerDll = options.RouterDll ?? Path.Combine(repoRoot, "src", "AkkaPortShare.Host", "bin", configuration, "net10.0", "akkaportshare.dll");
var workerDll = options.WorkerDll ?? Path.Combine(repoRoot, "src", "AkkaPortShare.Samples.Echo", "bin", configuration, "net10.0", "echo-worker.dll");
foreach (var dll in new[] { routerDll, workerDll })
{
    if (File.Exists(dll)) continue;
    Console.Error.WriteLine($"{dll} is missing: build it first (run.sh does).");
    return 2;
}

var paths = BenchPath.All.Where(p => options.Paths is null || options.Paths.Contains(p.Name))
    .Select(p => options.Tls ? p with { Label = $"{p.Label} (TLS)" } : p).ToList();
if (!paths.Any(p => p.IsDirect))
{
    Console.Error.WriteLine("The direct path is needed: every figure is reported as a ratio to it.");
    return 2;
}
var withHaproxy = paths.Any(p => p.Name == BenchPath.Haproxy.Name);
var scenarios = ScenarioRegistry.Selected(options);
var outputDirectory = Path.GetFullPath(Path.Combine(repoRoot, options.OutputDirectory));
var logDirectory = Path.Combine(outputDirectory, "logs");
if (Directory.Exists(logDirectory)) Directory.Delete(logDirectory, recursive: true);
Directory.CreateDirectory(logDirectory);
var command = "src/AkkaPortShare.Benchmark/run.sh" + string.Concat(UserArguments(args).Select(a => " " + a));

var haproxyPath = options.Haproxy;
var machine = MachineInfo.Collect(haproxyPath);
Console.WriteLine($"Machine: {machine.Describe()}; load average {machine.LoadAverageAtStart}");
Console.WriteLine($"Paths: {string.Join(", ", paths.Select(p => p.Label))}; scenarios: {string.Join(", ", scenarios.Select(s => s.Name))}; " +
    $"{options.Repetitions} repetition(s); logs in {logDirectory}");

var results = new ResultSet();
var started = DateTime.UtcNow;
using var cancel = new CancellationTokenSource();
var topology = new PortShareTopology(options with { Haproxy = haproxyPath, HaproxyConfig = Path.Combine(repoRoot, options.HaproxyConfig) },
    routerDll, workerDll, logDirectory);
var exitCode = 0;
try
{
    await PrepareAsync("start", RouterMode.Fd, () => topology.StartAsync(RouterMode.Fd, withHaproxy));
    if (paths.Any(p => p.IsFloor)) await PrepareAsync("start the floor", RouterMode.Fd, topology.StartFloorAsync);
    Console.WriteLine($"Router :{topology.RouterPort} (remoting :{topology.RemotingPort}), worker's own listener :{topology.WorkerDataPort}" +
        (withHaproxy ? $", HAProxy :{topology.HaproxyPort}" : "") + $"; {topology.Placement}");
    for (var rep = 1; rep <= options.Repetitions; rep++)
    {
        // Throughput figures on the running processes, scenario by scenario across the paths, so each figure and
        // its direct counterpart are taken seconds apart: direct, hand-over and HAProxy together while the router
        // runs in fd mode, relay while it runs in relay mode. The group the router's current mode serves goes
        // first, so it is restarted once per repetition (the worker re-registers by itself, ~6 s behind
        // Akka.Remote's gate). The order within a group rotates from one repetition to the next.
        var groups = paths.GroupBy(p => p.RequiresRouter ?? RouterMode.Fd)
            .OrderBy(g => g.Key == topology.RouterMode ? 0 : 1).Select(g => Rotate(g.ToList(), rep - 1)).ToList();
        foreach (var group in groups)
        {
            if (group.FirstOrDefault(p => p.RequiresRouter is not null)?.RequiresRouter is { } mode)
                await PrepareAsync($"switch the router to {mode}", mode, () => topology.EnsureRouterModeAsync(mode));
            var measured = scenarios.Where(s => !s.NeedsFreshProcesses).ToList();
            if (!options.Quick && measured.Count > 0) await WarmUpAsync(measured[0], group);
            foreach (var scenario in measured)
            foreach (var path in group.Where(scenario.AppliesTo))
                await RunOneAsync(scenario, path, rep);
        }

        // Memory figures on fresh processes, one path at a time (the router's mode switch is free here).
        var fresh = scenarios.Where(s => s.NeedsFreshProcesses).ToList();
        if (fresh.Count == 0) continue;
        foreach (var path in paths.OrderBy(p => p.RequiresRouter is null ? 0 : p.RequiresRouter == topology.RouterMode ? 2 : 1))
        foreach (var scenario in fresh.Where(s => s.AppliesTo(path)))
            await RunOneAsync(scenario, path, rep);
    }
}
catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException or OperationCanceledException)
{
    Console.Error.WriteLine($"Benchmark set-up failed: {e.Message}");
    exitCode = 2;
}
finally
{
    topology.Dispose();
}

machine.LoadAverageAtEnd = MachineInfo.LoadAverage();
var report = new ReportWriter(options, machine, scenarios, paths, results, command);
var markdown = report.Markdown();
Directory.CreateDirectory(outputDirectory);
var stem = options.Quick ? "smoke" : "results";
await File.WriteAllTextAsync(Path.Combine(outputDirectory, $"{stem}.md"), markdown);
await File.WriteAllTextAsync(Path.Combine(outputDirectory, $"{stem}.json"), report.Json());
Console.WriteLine();
Console.WriteLine(markdown);
Console.WriteLine($"Written: {Path.Combine(outputDirectory, stem)}.md and .json ({(DateTime.UtcNow - started).TotalSeconds:0} s)");
if (exitCode == 0 && report.Failures().Any()) exitCode = 1;
Console.WriteLine(exitCode == 0 ? "BENCHMARK OK: every path worked" : $"BENCHMARK FAILED (exit {exitCode})");
return exitCode;

async Task RunOneAsync(IScenario scenario, BenchPath path, int rep)
{
    const int attempts = 3;
    for (var attempt = 1; ; attempt++)
    {
        var mode = path.RequiresRouter ?? topology.RouterMode ?? RouterMode.Fd;
        if (scenario.NeedsFreshProcesses)
            await PrepareAsync("start fresh processes", mode, () => topology.RestartFreshAsync(path));
        else
            await PrepareAsync("check the processes", mode, async () =>
            {
                if (await topology.EnsureRunningAsync() is { } restarted)
                    Console.WriteLine($"WARNING: {restarted} had exited and was started again");
            });
        if (options.QuietWait > TimeSpan.Zero) await WaitForQuietAsync($"{scenario.Name} on {path.Label}");
        var at = DateTime.UtcNow;
        var load = MachineInfo.LoadAverage1m();
        var foreign = ForeignLoad.Start(topology.ProcessIds);
        ScenarioResult result;
        try
        {
            result = await scenario.RunAsync(new ScenarioContext(options, topology, Console.WriteLine), path, cancel.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
        {
            result = new ScenarioResult { Errors = 1 };
            result.ErrorSamples.Add($"{e.GetType().Name}: {e.Message}");
        }
        // A process that died under the scenario was killed from outside (the machine is shared): measure again.
        if (topology.Exited() is { } died && attempt < attempts)
        {
            Console.WriteLine($"WARNING: {died} exited during {scenario.Name} on {path.Label} (killed from outside?); " +
                "measuring again");
            continue;
        }
        var (other, machineBusy) = foreign.Stop();
        // With --quiet-wait, a figure other processes disturbed is measured again (a few times at most).
        if (options.QuietWait > TimeSpan.Zero && other > options.QuietThreshold && attempt < attempts)
        {
            Console.WriteLine($"Other processes used {other:P0} of the CPU during {scenario.Name} on {path.Label}; measuring again");
            continue;
        }
        results.Add(new RunRecord(scenario.Name, path.Name, rep, at, load, other, result, machineBusy));
        var figures = string.Join(", ", scenario.Metrics.Where(m => result.Values.ContainsKey(m.Key))
            .Select(m => $"{result.Values[m.Key].ToString(m.Format)} {m.Unit} {m.Label}"));
        Console.WriteLine($"[{rep}/{options.Repetitions}] {path.Label,-9} {scenario.Name,-10} {figures}" +
            (result.Errors > 0 ? $"  ERRORS {result.Errors}: {string.Join(" | ", result.ErrorSamples.Take(2))}" : "") +
            $"  (other processes {other:P0} of the CPU, machine {machineBusy:P0} busy)");
        return;
    }
}

// The group's first scenario once on each of its paths, not recorded, before the group is measured: the processes
// may have just been started (the run's start, a router mode switch, fresh processes for the memory figures), and the
// figure measured first on a cold load generator, worker or router came out at half its later value at churn
// concurrency 1, whatever the path (a per-figure warm-up of a second is not enough for the JIT's tiers to settle).
async Task WarmUpAsync(IScenario scenario, IReadOnlyList<BenchPath> group)
{
    foreach (var path in group.Where(scenario.AppliesTo))
    {
        try
        {
            await scenario.RunAsync(new ScenarioContext(options, topology, _ => { }), path, cancel.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
        {
            Console.WriteLine($"WARNING: warm-up of {scenario.Name} on {path.Label} failed: {e.Message}");
        }
    }
}

// Runs a start/switch/restart step; when it fails (a process died under it), restarts everything and tries again.
async Task PrepareAsync(string what, RouterMode mode, Func<Task> step)
{
    for (var attempt = 1; ; attempt++)
    {
        try
        {
            await step();
            return;
        }
        catch (Exception e) when (attempt < 3 && e is TimeoutException or InvalidOperationException or IOException
                                      or System.Net.Sockets.SocketException)
        {
            Console.WriteLine($"WARNING: could not {what} ({e.Message.Split('\n')[0]}); restarting every process");
            try { await topology.RestartAllAsync(mode); }
            catch (Exception again) when (again is TimeoutException or InvalidOperationException or IOException)
            {
                Console.WriteLine($"WARNING: restart failed too ({again.Message.Split('\n')[0]})");
            }
        }
    }
}

static List<T> Rotate<T>(List<T> items, int by) =>
    items.Count == 0 ? items : [.. items.Skip(by % items.Count), .. items.Take(by % items.Count)];

// On a shared machine: before a figure, wait (bounded) until the machine is nearly idle while the benchmark is.
async Task WaitForQuietAsync(string what)
{
    var deadline = DateTime.UtcNow + options.QuietWait;
    for (var reported = false; ; reported = true)
    {
        var busy = await ForeignLoad.MachineBusyShareAsync(TimeSpan.FromSeconds(1));
        if (busy <= options.QuietThreshold) return;
        if (DateTime.UtcNow >= deadline)
        {
            Console.WriteLine($"The machine is still {busy:P0} busy after {options.QuietWait}; measuring {what} anyway");
            return;
        }
        if (!reported) Console.WriteLine($"The machine is {busy:P0} busy with other work; waiting before {what}");
        await Task.Delay(TimeSpan.FromSeconds(5));
    }
}

// The command line as the user gave it to run.sh (without what run.sh itself adds).
static IEnumerable<string> UserArguments(string[] args)
{
    for (var i = 0; i < args.Length; i++)
    {
        if (args[i] is "--repo-root" or "--haproxy" or "--haproxy-config") i++;
        else yield return args[i];
    }
}
