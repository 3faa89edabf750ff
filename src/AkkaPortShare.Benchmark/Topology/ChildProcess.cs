using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AkkaPortShare.Benchmark.Topology;

/// <summary>
/// A process the benchmark started (router, worker, HAProxy): its output goes to a log file and is kept for
/// <see cref="WaitForLineAsync"/>; it is killed on dispose. Every child is also tracked in <see cref="All"/>, so
/// the exit handlers can kill whatever is still running when the benchmark is interrupted.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private static readonly List<ChildProcess> Live = [];
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly SemaphoreSlim _lineArrived = new(0);
    private readonly StreamWriter _log;
    private bool _closed;

    public string Name { get; }
    public int Id { get; }
    public bool HasExited => _process.HasExited;

    public int LineCount
    {
        get { lock (_lines) return _lines.Count; }
    }

    private ChildProcess(string name, Process process, string logFile)
    {
        Name = name;
        _process = process;
        Id = process.Id;
        _log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (Live) Live.Add(this);
    }

    public static ChildProcess Start(string name, string fileName, IEnumerable<string> args, string logFile,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        // An empty working directory of its own: .NET's generic host watches its content root (the working
        // directory) recursively for appsettings changes, and the repository is busy with builds and these logs.
        var workingDirectory = Path.Combine(Path.GetDirectoryName(logFile)!, "cwd");
        Directory.CreateDirectory(workingDirectory);
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        File.AppendAllText(logFile, $"--- {DateTime.UtcNow:O} {fileName} {string.Join(' ', info.ArgumentList)}\n");
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        return new ChildProcess(name, process, logFile);
    }

    public static ChildProcess StartDll(string name, string dll, IEnumerable<string> args, string logFile) =>
        Start(name, "dotnet", [dll, .. args], logFile);

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_lines)
        {
            if (_closed) return;
            _lines.Add(line);
            _log.WriteLine(line);
        }
        _lineArrived.Release();
    }

    public string Tail(int count = 40)
    {
        lock (_lines) return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - count)));
    }

    /// <summary>Waits for a line matching <paramref name="pattern"/> at or after line <paramref name="fromLine"/>.</summary>
    public async Task<string> WaitForLineAsync(string pattern, TimeSpan timeout, int fromLine = 0)
    {
        var regex = new Regex(pattern);
        var deadline = DateTime.UtcNow + timeout;
        for (var seen = fromLine; ;)
        {
            lock (_lines)
            {
                for (; seen < _lines.Count; seen++)
                    if (regex.IsMatch(_lines[seen])) return _lines[seen];
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || (HasExited && !await _lineArrived.WaitAsync(50)))
                throw new TimeoutException($"{Name} printed no line matching /{pattern}/ within {timeout}" +
                    (HasExited ? " (it exited)" : "") + $". Last output:\n{Tail()}");
            await _lineArrived.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>Resident set size (VmRSS of /proc/PID/status), in bytes.</summary>
    public long ResidentBytes() => ReadResidentBytes(Id);

    public static long ReadResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }

    /// <summary>Open file descriptors of a process (entries of /proc/PID/fd); 0 when it cannot be read.</summary>
    public static int OpenDescriptors(int pid)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>CPU time used so far (user + system, from /proc/PID/stat), or null when the process is gone.</summary>
    public TimeSpan? CpuTime()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{Id}/stat");
            // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    // sysconf(_SC_CLK_TCK) is 100 on every Linux this runs on.
    private const int ClockTicksPerSecond = 100;

    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        Kill();
        lock (Live) Live.Remove(this);
        lock (_lines)
        {
            _closed = true;
            _log.Dispose();
        }
        _process.Dispose();
    }

    /// <summary>Kills every child still running (exit handlers; idempotent).</summary>
    public static void KillAll()
    {
        List<ChildProcess> all;
        lock (Live) all = [.. Live];
        foreach (var child in all) child.Kill();
    }
}
