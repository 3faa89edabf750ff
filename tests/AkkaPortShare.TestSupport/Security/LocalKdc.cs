using System.Runtime.InteropServices;
using AkkaPortShare.TestSupport.Processes;
using AkkaPortShare.TestSupport.Sockets;

namespace AkkaPortShare.TestSupport.Security;

/// <summary>
/// A Kerberos realm of its own for a test run: MIT's KDC (Debian krb5-kdc, installed when absent) on a free port of
/// 127.0.0.1, its database, configuration and the service's keytab in a temporary directory (the machine's
/// /etc/krb5.conf is not used: KRB5_CONFIG names this one). Principals: <see cref="User"/> with
/// <see cref="Password"/>, and host/localhost, the SPN WCF's client asks for at net.tcp://localhost.
/// </summary>
public sealed class LocalKdc : IDisposable
{
    public const string Realm = "APS.TEST";
    public const string User = "carol";
    public const string Password = "Kerberos-pw-7";
    private static readonly Lazy<string?> Missing = new(EnsureInstalled);
    private readonly ManagedProcess _kdc;

    /// <summary>Null when a KDC can run here; else why not (after trying apt-get), for a test's Skip.</summary>
    public static string? Unavailable => Missing.Value;

    public string Directory { get; }
    public string ConfigPath => Path.Combine(Directory, "krb5.conf");
    public string KeytabPath => Path.Combine(Directory, "service.keytab");

    /// <summary>What a process of this realm needs in its environment.</summary>
    /// <summary>What the KDC logged (tickets issued and refused), for a failure message.</summary>
    public string Log => File.Exists(Path.Combine(Directory, "kdc.log")) ? File.ReadAllText(Path.Combine(Directory, "kdc.log")) : "";

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["KRB5_CONFIG"] = ConfigPath };

    private LocalKdc(ManagedProcess kdc, string directory) => (_kdc, Directory) = (kdc, directory);

    public static async Task<LocalKdc> StartAsync()
    {
        var port = FreePort.Next();
        var dir = System.IO.Directory.CreateTempSubdirectory("aps-kdc-").FullName;
        File.WriteAllText(Path.Combine(dir, "krb5.conf"), $$"""
            [libdefaults]
              default_realm = {{Realm}}
              dns_lookup_kdc = false
              dns_lookup_realm = false
              dns_canonicalize_hostname = false
              rdns = false
              udp_preference_limit = 1
            [realms]
              {{Realm}} = {
                kdc = 127.0.0.1:{{port}}
              }
            [domain_realm]
              localhost = {{Realm}}
            """);
        File.WriteAllText(Path.Combine(dir, "kdc.conf"), $$"""
            [kdcdefaults]
              kdc_ports = {{port}}
              kdc_tcp_ports = {{port}}
            [realms]
              {{Realm}} = {
                database_name = {{dir}}/principal
                key_stash_file = {{dir}}/stash
                acl_file = {{dir}}/kadm5.acl
              }
            [logging]
              kdc = FILE:{{dir}}/kdc.log
            """);
        var environment = new Dictionary<string, string>
        {
            ["KRB5_CONFIG"] = Path.Combine(dir, "krb5.conf"), ["KRB5_KDC_PROFILE"] = Path.Combine(dir, "kdc.conf"),
        };
        await RunAsync(environment, "kdb5_util", "create", "-s", "-P", "master-" + Guid.NewGuid().ToString("N"), "-r", Realm);
        await RunAsync(environment, "kadmin.local", "-r", Realm, "-q", $"addprinc -pw {Password} {User}@{Realm}");
        await RunAsync(environment, "kadmin.local", "-r", Realm, "-q", $"addprinc -randkey host/localhost@{Realm}");
        await RunAsync(environment, "kadmin.local", "-r", Realm, "-q", $"ktadd -k {dir}/service.keytab host/localhost@{Realm}");
        var kdc = ManagedProcess.StartCommand("krb5kdc", "krb5kdc", environment, "-n", "-r", Realm);
        await kdc.WaitForLineAsync("starting", TimeSpan.FromSeconds(20)); // (its stdout, before the log file takes over)
        return new LocalKdc(kdc, dir);
    }

    /// <summary>Sets KRB5_CONFIG for this process's native code (GSSAPI reads getenv; .NET's own copy does not reach it).</summary>
    public void UseInThisProcess()
    {
        if (setenv("KRB5_CONFIG", ConfigPath, 1) != 0) throw new InvalidOperationException("setenv(KRB5_CONFIG) failed");
    }

    public void Dispose()
    {
        _kdc.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static async Task RunAsync(IReadOnlyDictionary<string, string> environment, string file, params string[] args)
    {
        using var process = ManagedProcess.StartCommand(file, file, environment, args);
        if (!await process.WaitForExitAsync(TimeSpan.FromSeconds(30)) || process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {process.Output}");
    }

    private static string? EnsureInstalled()
    {
        if (!OperatingSystem.IsLinux()) return "a local MIT KDC is a Linux test";
        static bool Installed() => File.Exists("/usr/sbin/krb5kdc") && File.Exists("/usr/sbin/kadmin.local");
        if (Installed()) return null;
        var limit = TimeSpan.FromMinutes(5);
        var update = Command.RunAsync(limit, null, "apt-get", "update").GetAwaiter().GetResult();
        var install = update.Code == 0
            ? Command.RunAsync(limit, null, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "krb5-kdc", "krb5-admin-server")
                .GetAwaiter().GetResult()
            : update;
        if (install.Code == 0 && Installed()) return null;
        var output = install.Output.Trim();
        return $"krb5-kdc is not installed and apt-get could not install it (exit {install.Code}): " +
               (output.Length > 300 ? output[^300..] : output);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
