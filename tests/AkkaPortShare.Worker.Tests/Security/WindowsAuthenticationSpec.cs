using Akka.Configuration;
using AkkaPortShare.Worker.Security;

namespace AkkaPortShare.Worker.Tests.Security;

/// <summary>
/// Windows credentials as an operator configures them: a windows endpoint needs no certificate, takes its protection
/// level from HOCON or C#, and fails the start naming what GSSAPI would miss (gss-ntlmssp, the user file, a keytab),
/// or two endpoints naming different process-wide files.
/// </summary>
public sealed class WindowsAuthenticationSpec : IDisposable
{
    private const string Address = "net.tcp://+:8808/win/";
    private readonly string _directory = Directory.CreateTempSubdirectory("aps-gss-").FullName;
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static TransportSecuritySettings Settings(string hocon, string? endpointPath = null) =>
        TransportSecuritySettings.Create(ConfigurationFactory.ParseString(hocon), endpointPath);

    private static TransportSecuritySettings Windows(string extra = "") =>
        Settings($"akka-port-share.worker.transport-security {{ mode = transport, client-credential-type = windows\n{extra} }}");

    private string Mechanisms(bool ntlmssp)
    {
        var dir = Path.Combine(_directory, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var library = Path.Combine(_directory, "gssntlmssp.so");
        File.WriteAllText(library, "");
        File.WriteAllText(Path.Combine(dir, "mech.conf"), ntlmssp
            ? $"# a comment\ngssntlmssp_v1\t1.3.6.1.4.1.311.2.2.10\t{library}\n"
            : "other_mech 1.2.3.4 /nonexistent.so\n");
        return dir;
    }

    private List<string> Prepare(TransportSecuritySettings settings, bool ntlmssp = true, Func<string, string?>? environment = null,
        params (string, TransportSecuritySettings)[] more)
    {
        var problems = new List<string>();
        WindowsAuthentication.Prepare([(Address, settings), .. more], problems, Mechanisms(ntlmssp), environment ?? NoEnvironment);
        return problems;
    }

    [Fact]
    public void SecuredEndpoints_must_serve_windows_credentials_without_a_certificate_at_the_configured_protection_level()
    {
        var config = ConfigurationFactory.ParseString(
            $"akka-port-share.worker.transport-security {{ mode = transport, client-credential-type = windows, protection-level = sign, ntlm-user-file = \"{TestSupport.Security.GssNtlmssp.SharedUserFile}\" }}")
            .WithFallback(AkkaPortShare.Worker.Configuration.WorkerSettings.DefaultConfig());
        var problems = new List<string>();
        var inCode = new EndpointSecurity { ProtectionLevel = System.Net.Security.ProtectionLevel.None };

        var secured = SecuredEndpoints.Create(config, [(Address, EndpointSecurity.FromConfiguration), ("net.tcp://+:8808/code/", inCode)],
            Akka.Event.NoLogger.Instance, problems);

        if (OperatingSystem.IsLinux() && TestSupport.Security.GssNtlmssp.Unavailable is not null) return; // problems name gss-ntlmssp then
        Assert.Empty(problems);
        var hocon = Assert.IsType<NegotiateEndpoint>(secured[Address]);
        Assert.Equal(System.Net.Security.ProtectionLevel.Sign, hocon.ProtectionLevel);
        Assert.Equal(NegotiateEndpoint.NegotiateUpgrade, hocon.Upgrade);
        Assert.Equal(System.Net.Security.ProtectionLevel.None, Assert.IsType<NegotiateEndpoint>(secured["net.tcp://+:8808/code/"]).ProtectionLevel);
    }

    [Fact]
    public void WindowsAuthentication_must_need_a_user_file_or_a_keytab()
    {
        var problems = Prepare(Windows());
        Assert.Equal([$"{Address}: client-credential-type = windows needs akka-port-share.worker.transport-security.ntlm-user-file " +
                      "(NTLM through gss-ntlmssp) or kerberos-keytab; neither is set, nor is NTLM_USER_FILE in the environment"], problems);
    }

    [Fact]
    public void WindowsAuthentication_must_name_a_missing_user_file_or_keytab()
    {
        var problems = Prepare(Windows("ntlm-user-file = \"/nonexistent/aps/users\", kerberos-keytab = \"/nonexistent/aps/keytab\""));
        Assert.Contains("akka-port-share.worker.transport-security.ntlm-user-file: /nonexistent/aps/users does not exist (or cannot be read)", problems);
        Assert.Contains("akka-port-share.worker.transport-security.kerberos-keytab: /nonexistent/aps/keytab does not exist (or cannot be read)", problems);

        var fromEnvironment = Prepare(Windows(), environment: name => name == "NTLM_USER_FILE" ? "/nonexistent/aps/env-users" : null);
        Assert.Equal([$"{Address}: NTLM_USER_FILE (environment) names /nonexistent/aps/env-users, which does not exist (or cannot be read)"],
            fromEnvironment);
    }

    [Fact]
    public void WindowsAuthentication_must_name_gss_ntlmssp_when_GSSAPI_cannot_find_NTLM()
    {
        var users = Path.Combine(_directory, "users");
        File.WriteAllText(users, "WORKGROUP:alice:x\n");

        var problems = Prepare(Windows($"ntlm-user-file = \"{users}\""), ntlmssp: false);

        var problem = Assert.Single(problems);
        Assert.StartsWith($"{Address}: client-credential-type = windows with NTLM needs the gss-ntlmssp package (apt-get install gss-ntlmssp): no file in ", problem);
        Assert.Null(WindowsAuthentication.NtlmMechanism(Mechanisms(ntlmssp: true)));
    }

    [Fact]
    public void WindowsAuthentication_must_refuse_endpoints_naming_different_process_wide_files()
    {
        var problems = Prepare(Windows("ntlm-user-file = \"/a/users\""), more:
            ("net.tcp://+:8808/other/", Settings("other.block { mode = transport, client-credential-type = windows, ntlm-user-file = \"/b/users\" }" +
                                                 "\nakka-port-share.worker.transport-security {}", "other.block")));
        Assert.Contains(problems, p => p.StartsWith("ntlm-user-file is process-wide, and the windows endpoints name /a/users and /b/users; expected one value"));
    }
}
