using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>A real child process (router or worker) whose output the test can wait on. Killed on dispose.</summary>
public sealed class ManagedProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly SemaphoreSlim _lineArrived = new(0);

    public string Name { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    private ManagedProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static ManagedProcess StartDll(string name, string dll, params string[] args) => StartDllAs(name, null, dll, args);

    /// <summary>
    /// Starts the dll as another user (uid = gid = <paramref name="userId"/>, through setpriv; the test must run as
    /// root), or as this process's user when <paramref name="userId"/> is null.
    /// </summary>
    public static ManagedProcess StartDllAs(string name, uint? userId, string dll, params string[] args) =>
        StartDllAs(name, userId, null, dll, args);

    /// <param name="environment">Variables set for the child on top of this process's (e.g. SSL_CERT_FILE).</param>
    public static ManagedProcess StartDllAs(string name, uint? userId, IReadOnlyDictionary<string, string>? environment,
        string dll, params string[] args)
    {
        var info = new ProcessStartInfo(userId is null ? "dotnet" : "setpriv")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (userId is { } uid)
        {
            foreach (var arg in new[] { $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "dotnet" }) info.ArgumentList.Add(arg);
            info.Environment["HOME"] = info.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
            info.WorkingDirectory = Path.GetTempPath();
        }
        info.ArgumentList.Add(dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return new ManagedProcess(name, Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}"));
    }

    /// <summary>Starts any command (e.g. a shell that prepares descriptors, then execs the router).</summary>
    public static ManagedProcess StartCommand(string name, string file, IReadOnlyDictionary<string, string>? environment,
        params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return new ManagedProcess(name, Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}"));
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_lines) _lines.Add(line);
        _lineArrived.Release();
    }

    public string Output
    {
        get { lock (_lines) return string.Join('\n', _lines); }
    }

    public string Tail(int lines)
    {
        lock (_lines) return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - lines)));
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
    /// Waits until a line (from line <paramref name="fromLine"/> on) matches; fails with the whole output when it
    /// does not within the timeout.
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
                throw new TimeoutException($"{Name} printed no line matching /{pattern}/ within {timeout}. Output:\n{Output}");
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

    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(5000);
    }

    public void Dispose()
    {
        try { Kill(); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
