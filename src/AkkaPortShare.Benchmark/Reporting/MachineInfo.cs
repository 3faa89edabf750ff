using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace AkkaPortShare.Benchmark.Reporting;

/// <summary>What the figures were measured on.</summary>
public sealed record MachineInfo(int Cores, string CpuModel, double MemoryGiB, string Kernel, string Os, string DotNet,
    string Haproxy, string LoadAverageAtStart)
{
    public string LoadAverageAtEnd { get; set; } = "";

    public static MachineInfo Collect(string haproxy) => new(
        Environment.ProcessorCount,
        FirstValue("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        Math.Round(MemTotalKiB() / 1048576.0, 1),
        ReadOr("/proc/sys/kernel/osrelease", RuntimeInformation.OSDescription),
        OsName(),
        RuntimeInformation.FrameworkDescription,
        HaproxyVersion(haproxy),
        LoadAverage());

    public static string LoadAverage() => string.Join(' ', ReadOr("/proc/loadavg", "?").Split(' ').Take(3));

    public static double LoadAverage1m() =>
        double.TryParse(LoadAverage().Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;

    public string Describe() =>
        $"{Cores} cores ({CpuModel}), {MemoryGiB:0.#} GiB RAM, Linux {Kernel} ({Os}), {DotNet}, {Haproxy}";

    private static string ReadOr(string path, string fallback)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (IOException) { return fallback; }
        catch (UnauthorizedAccessException) { return fallback; }
    }

    private static string? FirstValue(string path, string key)
    {
        try
        {
            return File.ReadLines(path).Where(l => l.StartsWith(key, StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf(':') + 1)..].Trim()).FirstOrDefault();
        }
        catch (IOException) { return null; }
    }

    private static long MemTotalKiB() =>
        long.TryParse(FirstValue("/proc/meminfo", "MemTotal")?.Split(' ')[0], out var kib) ? kib : 0;

    private static string OsName()
    {
        try
        {
            var line = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            if (line is not null) return line["PRETTY_NAME=".Length..].Trim('"');
        }
        catch (IOException)
        {
        }
        return RuntimeInformation.OSDescription;
    }

    private static string HaproxyVersion(string haproxy)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(haproxy, "-v") { RedirectStandardOutput = true, UseShellExecute = false });
            var first = p!.StandardOutput.ReadLine() ?? "";
            p.WaitForExit(5000);
            // "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/" -> "HAProxy 2.6.12-1+deb12u4"
            var words = first.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return words.Length >= 3 && words[1] == "version" ? $"HAProxy {words[2]}" : first.Split(" - ")[0].Trim();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return "HAProxy (not found)";
        }
    }
}
