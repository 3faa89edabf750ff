using System.Globalization;
using System.Net;
using AkkaPortShare.TestSupport.Fuzz.Cases;
using AkkaPortShare.TestSupport.Fuzz.Live;
using AkkaPortShare.TestSupport.Fuzz.Oracle;
using AkkaPortShare.Fuzz.Remote;

// aps-fuzz: fuzzing, slow-client and soak drivers for the AkkaPortShare router (see run.sh and soak.sh).
//   decoder      [--cases 1000000] [--seed 1] [--first 0]
//   router       --port P [--cases 1000000] [--seed 1] [--first 0] [--concurrency 16] [--probe-every 1000] [--sources 4]
//   slow-clients --port P [--attackers 2000] [--trickle-ms 1000] [--reconnect-ms 1000] [--baseline-s 10] [--attack-s 60] [--router-pid PID] [--legit-shares-addresses]
//   soak         --port P --router-pid PID [--worker-pid PID] [--connections 1000000] [--concurrency 16] [--max-minutes 60]
//   remote-attack --router akka.tcp://akkaportshare@127.0.0.1:8809 --victim-address net.tcp://+:P/x/ [--victim-handover PATH] [--victim-pid PID] [--secret S]
//                a foreign actor system sends Kill, PoisonPill, Identify, system messages, JSON payloads and forged
//                registrations to the router's actors; exit code 1 when a reply told it something (a leak)
//   case         --port P --seed S --index I        print one case and what the oracles expect of it
//   free-port                                       print a loopback TCP port free right now (for the scripts)
//   handover-intruder --path SOCKET --via VIA [--wait-s 5]  pose as the router on a worker's hand-over socket:
//                     exit 0 when refused (connect denied, or closed unserved), 1 when the worker served it
// Every live command expects a router on 127.0.0.1:P with the echo worker registered at net.tcp://+:P/fuzz/.
// Exit code 0 when everything held, 1 when something did not, 2 on bad arguments.
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: aps-fuzz decoder|router|slow-clients|soak|remote-attack|case [options]  (see Program.cs)");
    return 2;
}

var command = args[0];
var port = Int("--port", 8808);
var target = new FuzzTarget(port);
var router = new IPEndPoint(IPAddress.Loopback, port);
var seed = Int("--seed", 1);
void Log(string line) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

switch (command)
{
    case "decoder":
    {
        var cases = Long("--cases", 1_000_000);
        var report = DecoderFuzzer.Run(new CaseSource(target, seed), Long("--first", 0), cases);
        Console.WriteLine(report);
        foreach (var failure in report.Failures) Console.WriteLine("FAIL " + failure);
        return report.Failures.Count == 0 ? 0 : 1;
    }
    case "router":
    {
        var options = new RouterFuzzOptions(router, target, seed, Long("--first", 0), Long("--cases", 1_000_000))
        {
            Concurrency = Int("--concurrency", 16),
            ProbeEvery = Int("--probe-every", 1000),
            SourceAddresses = Int("--sources", 4),
            Progress = Log,
        };
        var report = await RouterFuzzer.RunAsync(new CaseSource(target, seed), options);
        Console.WriteLine(report);
        return report.Passed ? 0 : 1;
    }
    case "slow-clients":
    {
        var options = new SlowClientOptions(router, target.LegitimateVia)
        {
            Attackers = Int("--attackers", 2000),
            TrickleInterval = TimeSpan.FromMilliseconds(Int("--trickle-ms", 1000)),
            ReconnectDelay = TimeSpan.FromMilliseconds(Int("--reconnect-ms", 1000)),
            Baseline = TimeSpan.FromSeconds(Int("--baseline-s", 10)),
            Attack = TimeSpan.FromSeconds(Int("--attack-s", 60)),
            RouterPid = Has("--router-pid") ? Int("--router-pid", 0) : null,
            LegitimateSharesAddresses = Has("--legit-shares-addresses"),
        };
        var report = await SlowClientAttack.RunAsync(options, Log);
        Console.WriteLine(report);
        return report.LegitimateFailed == 0 ? 0 : 1;
    }
    case "soak":
    {
        var options = new SoakOptions(router, target, Long("--connections", 1_000_000), Int("--router-pid", 0))
        {
            WorkerPid = Has("--worker-pid") ? Int("--worker-pid", 0) : null,
            Concurrency = Int("--concurrency", 16),
            MaxDuration = TimeSpan.FromMinutes(Int("--max-minutes", 60)),
            SampleEvery = TimeSpan.FromSeconds(Int("--sample-s", 30)),
            Progress = Log,
        };
        var report = await Soak.RunAsync(options);
        Console.WriteLine(report);
        return report.Failed == 0 && !report.TimedOut ? 0 : 1;
    }
    case "remote-attack":
    {
        var options = new RemoteAttackOptions(Value("--router") ?? "akka.tcp://akkaportshare@127.0.0.1:8809",
            Value("--victim-address") ?? $"net.tcp://+:{port}/fuzz/", Value("--victim-handover"), Int("--victim-pid", 0), Value("--secret"));
        var report = await RemoteAttack.RunAsync(options, Log);
        Console.WriteLine(report);
        return report.Leaks.Count == 0 ? 0 : 1;
    }
    case "case":
    {
        var c = new CaseSource(target, seed).Case(Long("--index", 0));
        var (expected, alternative) = new RouterOracle(target).Expect(c.Bytes);
        var failure = new DecoderChecks(target).Check(c, new Random((int)c.Index), out var state);
        Console.WriteLine($"{c}\nhex: {Convert.ToHexString(c.Bytes)}\ndecoder: {state} {(failure is null ? "(checks hold)" : "FAIL " + failure)}");
        Console.WriteLine($"router should answer: {expected}{(alternative is { } a ? $" (or {a} if read in pieces)" : "")}");
        return 0;
    }
    case "handover-intruder":
    {
        var result = await HandoverIntruder.RunAsync(Value("--path") ?? "", Value("--via") ?? "net.tcp://localhost/",
            TimeSpan.FromSeconds(Int("--wait-s", 5)), Console.WriteLine);
        return result is IntrusionResult.ConnectRefused or IntrusionResult.ClosedUnserved ? 0 : 1;
    }
    case "free-port":
    {
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Console.WriteLine(((IPEndPoint)probe.LocalEndPoint!).Port);
        return 0;
    }
    default:
        Console.Error.WriteLine($"unknown command {command}");
        return 2;
}

bool Has(string name) => Array.IndexOf(args, name) >= 0;
string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
long Long(string name, long fallback) => Value(name) is { } v ? long.Parse(v.Replace("_", ""), CultureInfo.InvariantCulture) : fallback;
