using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AkkaPortShare.TestSupport.Processes;

/// <summary>
/// A real child process (router, worker, HAProxy, aps-fuzz) whose output the caller can wait on; killed on
/// dispose. Every line it prints is kept (tests search them) and, when a log file is given, also appended there
/// (the benchmark keeps one per process). Every live child is tracked so <see cref="KillAll"/> can end whatever
/// is still running when a program using this is interrupted.
/// </summary>
public sealed class ManagedProcess : IDisposable
{
    private static readonly List<ManagedProcess> Live = [];
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly SemaphoreSlim _lineArrived = new(0);
    private readonly StreamWriter? _log;
    private bool _closed;

    public string Name { get; }

    // Read once: Process.Id throws after Dispose, and Kill/KillAll may race with it.
    public int Id { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    private ManagedProcess(string name, Process process, StreamWriter? log)
    {
        Name = name;
        _process = process;
        Id = process.Id;
        _log = log;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (Live) Live.Add(this);
    }

    public static ManagedProcess StartDll(string name, string dll, params string[] args) => StartDllAs(name, null, dll, args);

    /// <summary>
    /// Starts the dll as another user (uid = gid = <paramref name="userId"/>, through setpriv; the caller must run
    /// as root), or as this process's user when <paramref name="userId"/> is null.
    /// </summary>
    public static ManagedProcess StartDllAs(string name, uint? userId, string dll, params string[] args) =>
        StartDllAs(name, userId, null, dll, args);

    /// <param name="environment">Variables set for the child on top of this process's (e.g. SSL_CERT_FILE).</param>
    public static ManagedProcess StartDllAs(string name, uint? userId, IReadOnlyDictionary<string, string>? environment,
        string dll, params string[] args)
    {
        var info = NewStartInfo(userId is null ? "dotnet" : "setpriv", environment);
        if (userId is { } uid)
        {
            foreach (var arg in new[] { $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "dotnet" }) info.ArgumentList.Add(arg);
            info.Environment["HOME"] = info.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
            info.WorkingDirectory = Path.GetTempPath();
        }
        info.ArgumentList.Add(dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return Start(name, info, logFile: null);
    }

    /// <summary>Starts any command (e.g. a shell that prepares descriptors, then execs the router).</summary>
    public static ManagedProcess StartCommand(string name, string file, IReadOnlyDictionary<string, string>? environment,
        params string[] args)
    {
        var info = NewStartInfo(file, environment);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return Start(name, info, logFile: null);
    }

    /// <summary>
    /// Starts a command whose output is also appended to <paramref name="logFile"/>, in an empty working directory
    /// of its own next to it: .NET's generic host watches its content root (the working directory) recursively for
    /// appsettings changes, and a repository is busy with builds and logs. Its stdin is a pipe nobody writes to.
    /// </summary>
    public static ManagedProcess StartLogged(string name, string file, IEnumerable<string> args, string logFile,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var workingDirectory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(logFile))!, "cwd");
        Directory.CreateDirectory(workingDirectory);
        var info = NewStartInfo(file, environment);
        info.RedirectStandardInput = true;
        info.WorkingDirectory = workingDirectory;
        foreach (var arg in args) info.ArgumentList.Add(arg);
        File.AppendAllText(logFile, $"--- {DateTime.UtcNow:O} {file} {string.Join(' ', info.ArgumentList)}\n");
        return Start(name, info, logFile);
    }

    /// <summary><see cref="StartLogged"/> for a .NET dll.</summary>
    public static ManagedProcess StartDllLogged(string name, string dll, IEnumerable<string> args, string logFile) =>
        StartLogged(name, "dotnet", [dll, .. args], logFile);

    private static ProcessStartInfo NewStartInfo(string file, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return info;
    }

    private static ManagedProcess Start(string name, ProcessStartInfo info, string? logFile)
    {
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        var log = logFile is null ? null : new StreamWriter(logFile, append: true) { AutoFlush = true };
        return new ManagedProcess(name, process, log);
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_lines)
        {
            if (_closed) return;
            _lines.Add(line);
            _log?.WriteLine(line);
        }
        _lineArrived.Release();
    }

    public string Output
    {
        get { lock (_lines) return string.Join('\n', _lines); }
    }

    public string Tail(int lines = 40)
    {
        lock (_lines) return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - lines)));
    }

    /// <summary>The first <paramref name="max"/> lines printed so far that match <paramref name="pattern"/>.</summary>
    public string Matching(string pattern, int max = 40)
    {
        var regex = new Regex(pattern);
        lock (_lines) return string.Join('\n', _lines.Where(line => regex.IsMatch(line)).Take(max));
    }

    /// <summary>Lines printed so far: pass it to <see cref="WaitForLineAsync"/> to wait only for lines printed after now.</summary>
    public int LineCount
    {
        get { lock (_lines) return _lines.Count; }
    }

    /// <summary>How many lines printed so far match <paramref name="pattern"/>.</summary>
    public int CountLines(string pattern)
    {
        var regex = new Regex(pattern);
        lock (_lines) return _lines.Count(regex.IsMatch);
    }

    /// <summary>
    /// Waits until a line (from line <paramref name="fromLine"/> on) matches; fails with the output (the whole of
    /// it, or its tail when it also goes to a log file) when it does not within the timeout.
    /// </summary>
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
            if (left <= TimeSpan.Zero || HasExited && !await _lineArrived.WaitAsync(50))
                throw new TimeoutException($"{Name} printed no line matching /{pattern}/ within {timeout}" +
                    (HasExited ? " (it exited)" : "") + $". Output:\n{(_log is null ? Output : Tail())}");
            await _lineArrived.WaitAsync(left);
        }
    }

    /// <summary>Sends a signal by name (TERM: a graceful stop, as an init system asks for one).</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", Id.ToString()]) ?? throw new InvalidOperationException("kill");
        kill.WaitForExit(5000);
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {Id} exited with {kill.ExitCode}");
    }

    /// <summary>True when the process exits within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Resident set size in bytes (VmRSS of /proc/PID/status).</summary>
    public long ResidentBytes() => ProcessStats.ResidentBytes(Id);

    /// <summary>CPU time used so far (user + system), or null when the process is gone.</summary>
    public TimeSpan? CpuTime() => ProcessStats.CpuTime(Id);

    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone (or never fully started): nothing left to kill.
        }
    }

    public void Dispose()
    {
        Kill();
        lock (Live) Live.Remove(this);
        lock (_lines)
        {
            _closed = true;
            _log?.Dispose();
        }
        _process.Dispose();
    }

    /// <summary>Kills every child still running (a program's exit handlers; idempotent).</summary>
    public static void KillAll()
    {
        List<ManagedProcess> all;
        lock (Live) all = [.. Live];
        foreach (var child in all) child.Kill();
    }
}
