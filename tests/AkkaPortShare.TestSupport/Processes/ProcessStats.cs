using System.Globalization;

namespace AkkaPortShare.TestSupport.Processes;

/// <summary>What the kernel says about a process (Linux /proc): memory, descriptors, CPU time.</summary>
public static class ProcessStats
{
    // sysconf(_SC_CLK_TCK) is 100 on every Linux this runs on.
    private const int ClockTicksPerSecond = 100;

    /// <summary>Resident set size in bytes (VmRSS of /proc/PID/status).</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }

    /// <summary>Resident set size in MB.</summary>
    public static double RssMegabytes(int pid) => ResidentBytes(pid) / (1024.0 * 1024);

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
    public static TimeSpan? CpuTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
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
}
