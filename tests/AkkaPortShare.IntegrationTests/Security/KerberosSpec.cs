using System.Net;
using System.ServiceModel;
using AkkaPortShare.IntegrationTests.Harness;
using AkkaPortShare.IntegrationTests.ServiceModel;
using AkkaPortShare.TestSupport.Security;

namespace AkkaPortShare.IntegrationTests.Security;

/// <summary>A fact that needs a local MIT KDC: installs krb5-kdc when absent, skipped (saying why) only when that fails.</summary>
public sealed class KerberosFactAttribute : FactAttribute
{
    public KerberosFactAttribute()
    {
        if (LocalKdc.Unavailable is { } reason) Skip = reason;
    }
}

/// <summary>
/// A realm of the run's own (a KDC on 127.0.0.1) and worker K serving /k/echo/ with Windows credentials and the
/// service's keytab (kerberos-keytab; no NTLM user file), KRB5_CONFIG naming the realm's configuration in the worker's
/// environment and in this process's.
/// </summary>
public sealed class KerberosFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();
    public LocalKdc? Kdc { get; private set; }
    public ManagedProcess Worker { get; private set; } = null!;
    public Uri Echo => new(Host.Via("k/echo/"));

    public async Task InitializeAsync()
    {
        if (LocalKdc.Unavailable is not null) return;
        Kdc = await LocalKdc.StartAsync();
        Kdc.UseInThisProcess();
        await Host.StartRouterAsync();
        var config = Host.WriteConfig($$"""
            akka-port-share.worker.transport-security {
              mode = transport
              client-credential-type = windows
              kerberos-keytab = "{{Kdc.KeytabPath}}"
            }
            """);
        Worker = Host.StartWorkerAs("worker-K", null, ["--wcf-address", Host.Address("k/echo/"), "--config", config], Kdc.Environment);
        await Worker.WaitForLineAsync($"Registered {PortShareHost.Regex(Host.Address("k/echo/"))} with the router", TimeSpan.FromSeconds(60));
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        Kdc?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The real WCF client with <c>new NetTcpBinding()</c> and a Kerberos account: a ticket for host/localhost from the run's KDC.</summary>
public sealed class KerberosSpec(KerberosFixture fixture) : IClassFixture<KerberosFixture>
{
    private ChannelFactory<IEchoService> EchoFactory(string password = LocalKdc.Password)
    {
        var binding = new NetTcpBinding { SendTimeout = TimeSpan.FromSeconds(20), OpenTimeout = TimeSpan.FromSeconds(20) };
        var factory = new ChannelFactory<IEchoService>(binding, new EndpointAddress(fixture.Echo));
        factory.Credentials.Windows.ClientCredential = new NetworkCredential(LocalKdc.User, password, LocalKdc.Realm);
        return factory;
    }

    [KerberosFact]
    public void Request_reply_with_the_default_NetTcpBinding_and_a_Kerberos_account() => fixture.Host.WithLogsOnFailure(() =>
    {
        var factory = EchoFactory();
        var echo = factory.CreateChannel();

        var answer = Record.Exception(() => echo.Echo("kerberos"));
        Assert.True(answer is null, $"{answer}\n--- KDC ---\n{fixture.Kdc!.Log}");
        Assert.Equal($"Kerberos {LocalKdc.User}@{LocalKdc.Realm}", echo.Caller());
        ((IClientChannel)echo).Close();
        factory.Close();
    });

    [KerberosFact]
    public void A_wrong_Kerberos_password_is_refused() => fixture.Host.WithLogsOnFailure(() =>
    {
        var factory = EchoFactory(password: "not-it");
        var echo = factory.CreateChannel();

        var refused = Assert.Throws<System.ServiceModel.Security.SecurityNegotiationException>(() => echo.Echo("let me in"));
        ((IClientChannel)echo).Abort();
        factory.Abort();
        // The client gets no ticket, SPNEGO falls back to NTLM, and the worker (no NTLM user file) refuses that.
        Assert.Contains("Authentication failed on the remote side", refused.Message);
        fixture.Worker.WaitForLineAsync(@"Windows authentication \(application/negotiate\) with .* for .*/k/echo/ failed, connection closed: " +
            "the client's credentials were refused", TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
    });
}
