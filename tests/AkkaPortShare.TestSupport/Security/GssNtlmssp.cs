using AkkaPortShare.TestSupport.Processes;

namespace AkkaPortShare.TestSupport.Security;

/// <summary>
/// NTLM on Linux for tests of Windows credentials: GSSAPI's gss-ntlmssp plugin (the Debian package, installed here when
/// absent) and a user file made for the run (lines DOMAIN:user:password, gss-ntlmssp's NTLM_USER_FILE).
/// </summary>
public static class GssNtlmssp
{
    public const string Domain = "WORKGROUP";
    private const string NtlmsspOid = "1.3.6.1.4.1.311.2.2.10";
    private static readonly Lazy<string?> Missing = new(EnsureInstalled);

    /// <summary>Null when NTLM through gss-ntlmssp can run; else why not (after trying apt-get), for a test's Skip.</summary>
    public static string? Unavailable => Missing.Value;

    /// <summary>Whether a file in /etc/gss/mech.d names the NTLMSSP mechanism.</summary>
    public static bool Installed =>
        Directory.Exists("/etc/gss/mech.d")
        && Directory.EnumerateFiles("/etc/gss/mech.d", "*.conf").Any(f => File.ReadAllText(f).Contains(NtlmsspOid, StringComparison.Ordinal));

    public const string TestUser = "alice";
    public const string TestPassword = "Wonder-land-42";
    private static readonly Lazy<string> Shared = new(() =>
    {
        var path = WriteUserFile((TestUser, TestPassword));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        return path;
    });

    /// <summary>
    /// One user file per test process, with <see cref="TestUser"/>: NTLM_USER_FILE is process-wide, so every spec of a
    /// process that authenticates in it must name the same file.
    /// </summary>
    public static string SharedUserFile => Shared.Value;

    /// <summary>A user file with <paramref name="users"/> (user, password) in <see cref="Domain"/>, readable by its owner only.</summary>
    public static string WriteUserFile(params (string User, string Password)[] users)
    {
        var path = Path.Combine(Path.GetTempPath(), $"aps-ntlm-users-{Guid.NewGuid():N}");
        File.WriteAllText(path, "");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllLines(path, users.Select(u => $"{Domain}:{u.User}:{u.Password}"));
        return path;
    }

    private static string? EnsureInstalled()
    {
        if (!OperatingSystem.IsLinux()) return "NTLM through gss-ntlmssp is a Linux test";
        if (Installed) return null;
        var limit = TimeSpan.FromMinutes(5);
        var update = Command.RunAsync(limit, null, "apt-get", "update").GetAwaiter().GetResult();
        var install = update.Code == 0
            ? Command.RunAsync(limit, null, "apt-get", "install", "-y", "gss-ntlmssp").GetAwaiter().GetResult()
            : update;
        if (install.Code == 0 && Installed) return null;
        var output = install.Output.Trim();
        return $"gss-ntlmssp is not installed and apt-get could not install it (exit {install.Code}): " +
               (output.Length > 300 ? output[^300..] : output);
    }
}
