using System.Diagnostics;

namespace AkkaPortShare.TestSupport.Processes;

/// <summary>Runs a command to its end (dotnet publish, pack, systemd-analyze…): its exit code and everything it printed.</summary>
public static class Command
{
    public static async Task<(int Code, string Output)> RunAsync(TimeSpan limit, string? directory, string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (directory is not null) info.WorkingDirectory = directory;
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{file} {string.Join(' ', args)} did not finish within {limit}\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr); // only what it printed: specs search it
    }
}
