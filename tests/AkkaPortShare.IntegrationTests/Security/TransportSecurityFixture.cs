using AkkaPortShare.IntegrationTests.Harness;
using AkkaPortShare.TestSupport.Security;

namespace AkkaPortShare.IntegrationTests.Security;

/// <summary>
/// A router and echo workers secured as an operator would secure them, in HOCON only, with certificates made for the
/// run: worker T (server certificate from a PFX; clients anonymous) at /t/echo/, /t/other/, /t/duplex/ and
/// /t/stream/; worker U (the same) at /u/echo/, for pooled connections that move between workers; worker M (PEM
/// certificate and key; client certificates of the test CA required) at /m/echo/; and worker P, plain, at /p/echo/,
/// which also serves /p/secure/ secured from C# (WCF's NetTcpBinding.Security: Transport, Certificate) with its files
/// and an allow list of one client thumbprint in the endpoint's own HOCON block.
/// </summary>
public sealed class TransportSecurityFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();
    public TestCertificates Certificates { get; } = new();

    public Uri Echo => new(Host.Via("t/echo/"));
    public Uri Other => new(Host.Via("t/other/"));
    public Uri Duplex => new(Host.Via("t/duplex/"));
    public Uri Stream => new(Host.Via("t/stream/"));
    public Uri OtherWorker => new(Host.Via("u/echo/"));
    public Uri Mutual => new(Host.Via("m/echo/"));
    public Uri Plain => new(Host.Via("p/echo/"));
    public Uri SecuredInCode => new(Host.Via("p/secure/"));
    public ManagedProcess MutualWorker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        await Host.StartRouterAsync();
        var serverOnly = Host.WriteConfig($$"""
            akka-port-share.worker.max-message-size = 64m
            akka-port-share.worker.transport-security {
              mode = transport
              certificate-path = "{{Certificates.ServerPfxPath}}"
              certificate-password = "{{TestCertificates.PfxPassword}}"
            }
            """);
        var mutual = Host.WriteConfig($$"""
            akka-port-share.worker.transport-security {
              mode = transport
              certificate-path = "{{Certificates.ServerPemPath}}"
              certificate-key-path = "{{Certificates.ServerKeyPath}}"
              client-credential-type = certificate
              trust-store-path = "{{Certificates.CaPemPath}}"
            }
            """);
        var endpointBlock = Host.WriteConfig($$"""
            secure-endpoint.tls {
              certificate-path = "{{Certificates.ServerPfxPath}}"
              certificate-password = "{{TestCertificates.PfxPassword}}"
              trust-store-path = "{{Certificates.CaPemPath}}"
              allowed-client-thumbprints = [ "{{Certificates.Client.Thumbprint}}" ]
            }
            """);
        var mutualWorker = Host.StartWorkerAsync("worker-M", ["--wcf-address", Host.Address("m/echo/"), "--config", mutual], "m/echo/");
        await Task.WhenAll(
            mutualWorker,
            Host.StartWorkerAsync("worker-T",
                ["--wcf-address", Host.Address("t/echo/"), "--wcf-address", Host.Address("t/other/"),
                 "--duplex-address", Host.Address("t/duplex/"), "--stream-address", Host.Address("t/stream/"), "--config", serverOnly],
                "t/echo/", "t/other/", "t/duplex/", "t/stream/"),
            Host.StartWorkerAsync("worker-U", ["--wcf-address", Host.Address("u/echo/"), "--config", serverOnly], "u/echo/"),
            Host.StartWorkerAsync("worker-P",
                ["--wcf-address", Host.Address("p/echo/"), "--config", endpointBlock,
                 "--wcf-endpoint", Host.Address("p/secure/"), "security=certificate,transport-security-path=secure-endpoint.tls"],
                "p/echo/", "p/secure/"));
        MutualWorker = await mutualWorker;
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        Certificates.Dispose();
        return Task.CompletedTask;
    }
}
