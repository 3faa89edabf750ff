using AkkaPortShare.IntegrationTests.Harness;
using AkkaPortShare.TestSupport.Security;

namespace AkkaPortShare.IntegrationTests.Security;

/// <summary>
/// A router and an echo worker with Windows credentials (NetTcpBinding()'s default) configured as an operator would,
/// in HOCON: worker W serves /w/echo/, /w/other/, /w/duplex/ and /w/stream/ with client-credential-type windows and an NTLM user
/// file made for the run (gss-ntlmssp, installed when absent), and /w/sign/ secured from C# (WCF's
/// NetTcpBinding.Security: Transport, Windows, ProtectionLevel Sign), and /w/none/ likewise with ProtectionLevel None. Nothing starts when NTLM cannot run (the specs
/// are skipped then, saying why).
/// </summary>
public sealed class WindowsCredentialsFixture : IAsyncLifetime
{
    public const string User = "alice";
    public const string Password = "Wonder-land-42";

    public PortShareHost Host { get; } = new();
    public string UserFile { get; private set; } = "";
    public ManagedProcess Worker { get; private set; } = null!;

    public Uri Echo => new(Host.Via("w/echo/"));
    public Uri Other => new(Host.Via("w/other/"));
    public Uri Duplex => new(Host.Via("w/duplex/"));
    public Uri Stream => new(Host.Via("w/stream/"));
    public Uri Signed => new(Host.Via("w/sign/"));
    public Uri Unprotected => new(Host.Via("w/none/"));

    public async Task InitializeAsync()
    {
        if (GssNtlmssp.Unavailable is not null) return;
        UserFile = GssNtlmssp.WriteUserFile((User, Password), ("bob", "another-one"));
        await Host.StartRouterAsync();
        var windows = Host.WriteConfig($$"""
            akka-port-share.worker.max-message-size = 64m
            akka-port-share.worker.transport-security {
              mode = transport
              client-credential-type = windows
              ntlm-user-file = "{{UserFile}}"
            }
            """);
        Worker = await Host.StartWorkerAsync("worker-W",
            ["--wcf-address", Host.Address("w/echo/"), "--wcf-address", Host.Address("w/other/"),
             "--duplex-address", Host.Address("w/duplex/"), "--stream-address", Host.Address("w/stream/"),
             "--wcf-endpoint", Host.Address("w/sign/"), "security=windows,protection-level=Sign",
             "--wcf-endpoint", Host.Address("w/none/"), "security=windows,protection-level=None", "--config", windows],
            "w/echo/", "w/other/", "w/duplex/", "w/stream/", "w/sign/", "w/none/");
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        if (UserFile.Length > 0) File.Delete(UserFile);
        return Task.CompletedTask;
    }
}
