namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>What the kernel says a process holds in memory.</summary>
public static class ProcessMemory
{
    /// <summary>Resident set size in MB (VmRSS of /proc/PID/status).</summary>
    public static double RssMegabytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kilobytes = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]);
        return kilobytes / 1024.0;
    }
}
