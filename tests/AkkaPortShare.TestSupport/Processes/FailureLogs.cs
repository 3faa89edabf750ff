namespace AkkaPortShare.TestSupport.Processes;

/// <summary>
/// Keeps the whole output of a failed test's processes: a failure message carries only their tails, and a fault that
/// shows only under the full suite's load (a lost reply, a stalled reconnection) is found in the lines before them.
/// </summary>
public static class FailureLogs
{
    /// <summary>Where the logs go: $APS_FAILURE_LOGS, or aps-failure-logs in the temp directory.</summary>
    public static string Root =>
        Environment.GetEnvironmentVariable("APS_FAILURE_LOGS") is { Length: > 0 } root
            ? root
            : Path.Combine(Path.GetTempPath(), "aps-failure-logs");

    /// <summary>
    /// Writes each process's whole output (and any <paramref name="extra"/> texts) to a new directory; returns a line
    /// naming it for the failure message, or why it could not.
    /// </summary>
    public static string Save(IEnumerable<ManagedProcess> processes, IReadOnlyDictionary<string, string>? extra = null)
    {
        try
        {
            var directory = Path.Combine(Root, $"{DateTime.UtcNow:yyyyMMdd-HHmmss.fff}-{Guid.NewGuid():N}"[..36]);
            Directory.CreateDirectory(directory);
            foreach (var process in processes)
                File.WriteAllText(Path.Combine(directory, $"{Safe(process.Name)}-{process.Id}.log"), process.Output);
            foreach (var (name, text) in extra ?? new Dictionary<string, string>())
                File.WriteAllText(Path.Combine(directory, $"{Safe(name)}.log"), text);
            return $"full logs: {directory}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"full logs not saved: {e.Message}";
        }
    }

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
}
