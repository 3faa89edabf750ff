using System.Runtime.InteropServices;

namespace AkkaPortShare.Worker.Security;

/// <summary>
/// The process-wide part of Windows credentials on Linux. .NET's NegotiateStream calls GSSAPI (libgssapi_krb5), which
/// finds NTLM in the gss-ntlmssp plugin named in /etc/gss/mech.d, and gss-ntlmssp reads its users from the file in
/// NTLM_USER_FILE; Kerberos reads its keytab from KRB5_KTNAME. Both are read from the native environment, which
/// .NET's Environment.SetEnvironmentVariable does not change on Unix, hence setenv. Set once, before the first
/// authentication, for every endpoint of the process.
/// </summary>
internal static class WindowsAuthentication
{
    internal const string NtlmUserFileVariable = "NTLM_USER_FILE";
    internal const string KeytabVariable = "KRB5_KTNAME";
    private const string GssapiLibrary = "libgssapi_krb5.so.2";
    internal const string MechanismDirectory = "/etc/gss/mech.d"; // GSSAPI's own (MIT krb5 >= 1.12)

    /// <summary>
    /// Checks what the windows endpoints need and sets the environment; each missing piece is a problem naming it
    /// (the worker then exits with code 78). <paramref name="endpoints"/>: each windows endpoint's settings;
    /// <paramref name="mechanisms"/> and <paramref name="environment"/> stand in for GSSAPI's directory and the
    /// process's environment in specs.
    /// </summary>
    public static void Prepare(IReadOnlyList<(string Address, TransportSecuritySettings Settings)> endpoints, List<string> problems,
        string mechanisms = MechanismDirectory, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (endpoints.Count == 0) return;
        var userFile = OneValue(endpoints, s => s.NtlmUserFile, "ntlm-user-file", problems);
        var keytab = OneValue(endpoints, s => s.KerberosKeytab, "kerberos-keytab", problems);
        var (address, settings) = endpoints[0];
        if (!OperatingSystem.IsLinux())
            return; // Windows has SSPI; nothing to check or set
        if (!NativeLibrary.TryLoad(GssapiLibrary, out var gssapi))
            problems.Add($"{address}: client-credential-type = windows needs GSSAPI ({GssapiLibrary}, Debian: libgssapi-krb5-2), which cannot be loaded");
        else NativeLibrary.Free(gssapi);

        var fromEnvironment = string.IsNullOrEmpty(userFile) ? environment(NtlmUserFileVariable) : null;
        var ntlmFile = string.IsNullOrEmpty(userFile) ? fromEnvironment : userFile;
        if (!string.IsNullOrEmpty(keytab) && !File.Exists(keytab))
            problems.Add($"{settings.Path}.kerberos-keytab: {keytab} does not exist (or cannot be read)");
        if (string.IsNullOrEmpty(ntlmFile))
        {
            if (string.IsNullOrEmpty(keytab))
                problems.Add($"{address}: client-credential-type = windows needs {settings.Path}.ntlm-user-file (NTLM through gss-ntlmssp) " +
                             $"or kerberos-keytab; neither is set, nor is {NtlmUserFileVariable} in the environment");
        }
        else
        {
            if (!File.Exists(ntlmFile))
                problems.Add(fromEnvironment is null
                    ? $"{settings.Path}.ntlm-user-file: {ntlmFile} does not exist (or cannot be read)"
                    : $"{address}: {NtlmUserFileVariable} (environment) names {ntlmFile}, which does not exist (or cannot be read)");
            if (NtlmMechanism(mechanisms) is { } missing)
                problems.Add($"{address}: client-credential-type = windows with NTLM needs the gss-ntlmssp package " +
                             $"(apt-get install gss-ntlmssp): {missing}");
        }
        if (problems.Count > 0) return;
        if (!string.IsNullOrEmpty(userFile)) SetNative(NtlmUserFileVariable, userFile);
        if (!string.IsNullOrEmpty(keytab)) SetNative(KeytabVariable, keytab);
    }

    /// <summary>Null when GSSAPI can find gss-ntlmssp; else what is missing.</summary>
    internal static string? NtlmMechanism(string mechanisms = MechanismDirectory)
    {
        if (!Directory.Exists(mechanisms)) return $"{mechanisms} does not exist";
        foreach (var file in Directory.EnumerateFiles(mechanisms, "*.conf"))
        {
            // A mech.d line: name OID shared-library [options]; gss-ntlmssp's is "gssntlmssp_v1 1.3.6.1.4.1.311.2.2.10 <path>".
            foreach (var line in File.ReadLines(file))
            {
                var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 3 || fields[0].StartsWith('#') || fields[1] != "1.3.6.1.4.1.311.2.2.10") continue;
                return File.Exists(fields[2]) ? null : $"{file} names {fields[2]}, which does not exist";
            }
        }
        return $"no file in {mechanisms} names the NTLMSSP mechanism (1.3.6.1.4.1.311.2.2.10)";
    }

    // The setting is process-wide: endpoints naming different values cannot all be served.
    private static string OneValue(IReadOnlyList<(string Address, TransportSecuritySettings Settings)> endpoints,
        Func<TransportSecuritySettings, string> value, string key, List<string> problems)
    {
        var distinct = endpoints.Select(e => value(e.Settings)).Where(v => !string.IsNullOrEmpty(v)).Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count > 1)
            problems.Add($"{key} is process-wide, and the windows endpoints name {string.Join(" and ", distinct)}; expected one value " +
                         $"({string.Join(", ", endpoints.Select(e => e.Settings.Path).Distinct())})");
        return distinct.FirstOrDefault() ?? "";
    }

    private static void SetNative(string name, string value)
    {
        if (setenv(name, value, 1) != 0)
            throw new InvalidOperationException($"setenv({name}) failed: errno {Marshal.GetLastPInvokeError()}");
        Environment.SetEnvironmentVariable(name, value); // and .NET's own copy, for anything that reads it there
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
