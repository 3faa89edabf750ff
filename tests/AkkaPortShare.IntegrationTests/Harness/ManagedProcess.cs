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

    private ManagedProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static ManagedProcess StartDll(string name, string dll, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_NOLOGO"] = "1";
        return new ManagedProcess(name, Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}"));
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

    /// <summary>Waits until a line matches; fails with the whole output when it does not within the timeout.</summary>
    public async Task<string> WaitForLineAsync(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern);
        var deadline = DateTime.UtcNow + timeout;
        for (var seen = 0; ;)
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
