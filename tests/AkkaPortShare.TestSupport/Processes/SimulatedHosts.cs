using System.Diagnostics;
using System.Net;

namespace AkkaPortShare.TestSupport.Processes;

/// <summary>
/// Several hosts on one machine, for the cluster scenarios: each a Linux network namespace of its own
/// (<c>aps-&lt;id&gt;-N</c>, address 10.250.S.N/24 on a veth pair joined to a bridge made here; the bridge has
/// 10.250.S.254 so this test process reaches the hosts as a client; nothing routes out of the subnet). Processes
/// start inside with <c>ip netns exec</c>; a process may also get a private mount of its hand-over directory, so a
/// router on another "host" cannot reach its Unix sockets (as on a real other machine).
/// Where namespaces cannot be made (not root, no iproute2 and no apt-get), the hosts are loopback addresses
/// 127.0.0.N instead: same addresses-per-host, no isolation (<see cref="Isolated"/> is false).
/// Everything made is removed on dispose, and namespaces left by a test process that died are removed at the next
/// start (their names carry the creating pid).
/// </summary>
public sealed class SimulatedHosts : IDisposable
{
    private readonly List<(SimulatedHost Host, ManagedProcess Process)> _processes = [];
    private readonly string? _bridge;

    public IReadOnlyList<SimulatedHost> Hosts { get; }

    /// <summary>True: network namespaces; false: loopback addresses (no isolation, no private mounts, no partitions).</summary>
    public bool Isolated => _bridge is not null;

    /// <summary>Why namespaces were not used, when they were not.</summary>
    public string? FallbackReason { get; }

    public SimulatedHost this[int index] => Hosts[index];

    private SimulatedHosts(IReadOnlyList<SimulatedHost> hosts, string? bridge, string? fallbackReason)
    {
        Hosts = hosts;
        _bridge = bridge;
        FallbackReason = fallbackReason;
        foreach (var host in hosts) host.Owner = this;
    }

    public static SimulatedHosts Create(int count)
    {
        if (count is < 1 or > 200) throw new ArgumentOutOfRangeException(nameof(count));
        var problem = NamespacesUnavailable();
        if (problem is null)
        {
            RemoveLeftovers();
            var id = $"{Environment.ProcessId:x}{Random.Shared.Next(0x1000):x3}";
            var prefix = $"aps-{id}";
            var bridge = $"apsbr{id}"[..Math.Min(15, 5 + id.Length)];
            var subnet = Random.Shared.Next(1, 250);
            var hosts = new List<SimulatedHost>();
            try
            {
                Ip("link", "add", bridge, "type", "bridge");
                Ip("addr", "add", $"10.250.{subnet}.254/24", "dev", bridge);
                Ip("link", "set", bridge, "up");
                for (var i = 1; i <= count; i++)
                {
                    var ns = $"{prefix}-{i}";
                    var veth = $"aps{id}h{i}";
                    if (veth.Length > 15) veth = veth[^15..];
                    Ip("netns", "add", ns);
                    hosts.Add(new SimulatedHost($"host{i}", IPAddress.Parse($"10.250.{subnet}.{i}"), ns, veth));
                    Ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
                    Ip("link", "set", veth, "master", bridge, "up");
                    Ip("-n", ns, "addr", "add", $"10.250.{subnet}.{i}/24", "dev", "eth0");
                    Ip("-n", ns, "link", "set", "eth0", "up");
                    Ip("-n", ns, "link", "set", "lo", "up");
                }
                return new SimulatedHosts(hosts, bridge, null);
            }
            catch (Exception e)
            {
                Remove(hosts.Select(h => h.Namespace!), bridge);
                problem = $"making namespaces failed: {e.Message}";
            }
        }
        // Loopback: 127.0.0.0/8 answers on every address; a random block keeps concurrent runs apart.
        var block = Random.Shared.Next(2, 250);
        var loopback = Enumerable.Range(1, count).Select(i => new SimulatedHost($"host{i}", IPAddress.Parse($"127.{block}.0.{i}"), null, null)).ToList();
        return new SimulatedHosts(loopback, null, problem);
    }

    /// <summary>
    /// Starts a .NET program on <paramref name="host"/>. <paramref name="privateDirectory"/>: a directory (created
    /// here) that the process sees as an empty private tmpfs, mode 0700, which nobody outside its host sees.
    /// </summary>
    internal ManagedProcess Start(SimulatedHost host, string name, string dll, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment, string? privateDirectory)
    {
        ManagedProcess process;
        if (host.Namespace is null)
        {
            process = ManagedProcess.StartDllAs(name, null, environment, dll, args.ToArray());
        }
        else
        {
            List<string> command = ["netns", "exec", host.Namespace];
            if (privateDirectory is not null)
            {
                Directory.CreateDirectory(privateDirectory);
                // unshare and sh exec the program in the end: the process id stays the program's.
                command.AddRange(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    "mount -t tmpfs -o mode=0700 aps-private \"$0\" && shift && exec \"$@\"", privateDirectory, "--"]);
            }
            command.AddRange(["dotnet", dll, .. args]);
            process = ManagedProcess.StartCommand(name, "ip", environment, command.ToArray());
        }
        lock (_processes) _processes.Add((host, process));
        return process;
    }

    /// <summary>SIGKILL to every process started on the host: the host "dies" (its sockets are reset).</summary>
    internal void KillAll(SimulatedHost host)
    {
        List<ManagedProcess> victims;
        lock (_processes) victims = _processes.Where(p => p.Host == host).Select(p => p.Process).ToList();
        foreach (var victim in victims) victim.Kill();
    }

    /// <summary>Takes the host's link down (or up again): a partition; its processes keep running.</summary>
    internal void SetLink(SimulatedHost host, bool up)
    {
        if (host.Veth is null) throw new InvalidOperationException("partitions need network namespaces");
        Ip("link", "set", host.Veth, up ? "up" : "down");
    }

    internal void ResetConnections(SimulatedHost host, SimulatedHost peer)
    {
        var (code, output) = RunWithCode("ip", "netns", "exec", host.Namespace!, "ss", "-K", "dst", peer.Address.ToString());
        if (code != 0) throw new InvalidOperationException($"ss -K in {host.Namespace}: {output.Trim()}");
    }

    public void Dispose()
    {
        List<ManagedProcess> all;
        lock (_processes) all = _processes.Select(p => p.Process).ToList();
        foreach (var process in all) process.Dispose();
        if (_bridge is not null) Remove(Hosts.Select(h => h.Namespace!), _bridge);
    }

    private static string? NamespacesUnavailable()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux";
        if (Environment.UserName != "root" && Run("id", "-u").Trim() != "0") return "not root";
        if (Run("sh", "-c", "command -v ip || true").Trim().Length == 0)
        {
            // The suite runs as root in CI: install iproute2 once.
            Run("sh", "-c", "apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq iproute2 >/dev/null 2>&1 || true");
            if (Run("sh", "-c", "command -v ip || true").Trim().Length == 0) return "iproute2 (ip) is missing and could not be installed";
        }
        return null;
    }

    // Namespaces of test processes that no longer run (killed before they could clean up).
    private static void RemoveLeftovers()
    {
        foreach (var line in Run("ip", "netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (!name.StartsWith("aps-", StringComparison.Ordinal) || name.Length < 12) continue;
            var dash = name.IndexOf('-', 4);
            var id = dash > 0 ? name[4..dash] : name[4..];
            if (id.Length <= 3 || !int.TryParse(id[..^3], System.Globalization.NumberStyles.HexNumber, null, out var pid)) continue;
            if (Directory.Exists($"/proc/{pid}")) continue;
            Run("ip", "netns", "del", name);
            Run("ip", "link", "del", $"apsbr{id}"[..Math.Min(15, 5 + id.Length)]);
        }
    }

    private static void Remove(IEnumerable<string> namespaces, string bridge)
    {
        foreach (var ns in namespaces) Run("ip", "netns", "del", ns);
        Run("ip", "link", "del", bridge);
    }

    private static void Ip(params string[] args)
    {
        var (code, output) = RunWithCode("ip", args);
        if (code != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {output.Trim()}");
    }

    private static string Run(string file, params string[] args) => RunWithCode(file, args).Output;

    private static (int Code, string Output) RunWithCode(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(120_000)) process.Kill(entireProcessTree: true);
            return (process.ExitCode, output.Result + error.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (127, e.Message);
        }
    }
}

/// <summary>One simulated host: its address, and its namespace when isolated.</summary>
public sealed class SimulatedHost(string name, IPAddress address, string? @namespace, string? veth)
{
    internal SimulatedHosts Owner { get; set; } = null!;

    public string Name { get; } = name;
    public IPAddress Address { get; } = address;
    public string? Namespace { get; } = @namespace;
    internal string? Veth { get; } = veth;

    public ManagedProcess StartDll(string name, string dll, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, string? privateDirectory = null) =>
        Owner.Start(this, name, dll, args, environment, privateDirectory);

    /// <summary>Kills every process started on this host (SIGKILL).</summary>
    public void KillAll() => Owner.KillAll(this);

    /// <summary>Cuts this host off the others (link down) or joins it again.</summary>
    public void Partition(bool cut = true) => Owner.SetLink(this, up: !cut);

    /// <summary>
    /// Resets every TCP connection of this host with <paramref name="peer"/> (<c>ss -K</c>, in this host's namespace),
    /// as a middlebox or a link flap would; the processes on both keep running.
    /// </summary>
    public void ResetConnectionsTo(SimulatedHost peer)
    {
        if (Namespace is null) throw new InvalidOperationException("resetting connections needs network namespaces");
        Owner.ResetConnections(this, peer);
    }

    public override string ToString() => $"{Name} ({Address}{(Namespace is null ? ", loopback" : $", netns {Namespace}")})";
}
