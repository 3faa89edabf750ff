using System.Net;
using System.ServiceModel;
using AkkaPortShare.IntegrationTests.Harness;
using AkkaPortShare.IntegrationTests.ServiceModel;

namespace AkkaPortShare.IntegrationTests.Security;

/// <summary>
/// The real WCF client (System.ServiceModel.NetTcp) with <c>new NetTcpBinding()</c> - Transport security with Windows
/// credentials, its default - through the router to an echo worker that runs NegotiateStream itself (NTLM through
/// GSSAPI and gss-ntlmssp on both sides; the client's credential is a NetworkCredential of the run's user file).
/// </summary>
public sealed class WindowsCredentialsSpec(WindowsCredentialsFixture fixture) : IClassFixture<WindowsCredentialsFixture>
{
    private static NetTcpBinding Binding(bool reliable = false)
    {
        var binding = reliable ? new NetTcpBinding(SecurityMode.Transport, reliableSessionEnabled: true) : new NetTcpBinding();
        binding.SendTimeout = binding.ReceiveTimeout = binding.OpenTimeout = TimeSpan.FromSeconds(20);
        binding.CloseTimeout = TimeSpan.FromSeconds(10);
        return binding;
    }

    private static T WithCredential<T>(T factory, string password = WindowsCredentialsFixture.Password) where T : ChannelFactory
    {
        factory.Credentials.Windows.ClientCredential =
            new NetworkCredential(WindowsCredentialsFixture.User, password, TestSupport.Security.GssNtlmssp.Domain);
        return factory;
    }

    private ChannelFactory<IEchoService> EchoFactory(Uri address, NetTcpBinding? binding = null, string password = WindowsCredentialsFixture.Password) =>
        WithCredential(new ChannelFactory<IEchoService>(binding ?? Binding(), new EndpointAddress(address)), password);

    private static void Close(object channel, ChannelFactory factory)
    {
        ((IClientChannel)channel).Close();
        factory.Close();
    }

    private void WithLogs(Action test) => fixture.Host.WithLogsOnFailure(test);

    [NtlmFact]
    public void Request_reply_with_the_default_NetTcpBinding_and_an_NTLM_account() => WithLogs(() =>
    {
        var factory = EchoFactory(fixture.Echo);
        var echo = factory.CreateChannel();

        Assert.Equal("negotiated", echo.Echo("negotiated"));
        Assert.Equal("worker-W", echo.Identity());
        Assert.Equal($@"NTLM {TestSupport.Security.GssNtlmssp.Domain}\{WindowsCredentialsFixture.User}", echo.Caller());
        var fault = Assert.Throws<FaultException<EchoFault>>(() => echo.Fail("inside negotiate"));
        Assert.Equal("inside negotiate", fault.Detail.Reason);
        Assert.Equal("still", echo.Echo("still"));
        Close(echo, factory);
    });

    [NtlmFact]
    public void A_duplex_session_with_Windows_credentials_gets_its_callbacks() => WithLogs(() =>
    {
        var callback = new RecordingCallback();
        var factory = WithCredential(new DuplexChannelFactory<IEchoDuplexService>(new InstanceContext(callback), Binding(),
            new EndpointAddress(fixture.Duplex)));
        var duplex = factory.CreateChannel();

        Assert.Equal("ping", duplex.EchoWithCallback("ping"));
        Assert.True(callback.Received.Wait(TimeSpan.FromSeconds(10)), "the callback did not arrive");
        Assert.Equal("ping", callback.Text);
        Close(duplex, factory);
    });

    [NtlmFact]
    public void A_reliable_session_with_Windows_credentials_delivers_in_order() => WithLogs(() =>
    {
        var factory = EchoFactory(fixture.Echo, Binding(reliable: true));
        var echo = factory.CreateChannel();

        var before = echo.NumbersReceived();
        for (var i = 1; i <= 20; i++) echo.PostNumber(i);
        Assert.Equal("reliable", echo.Echo("reliable"));
        Assert.Equal($@"NTLM {TestSupport.Security.GssNtlmssp.Domain}\{WindowsCredentialsFixture.User}", echo.Caller());
        Assert.Contains("outOfOrder=0", echo.NumbersReceived());
        Assert.NotEqual(before, echo.NumbersReceived());
        Close(echo, factory);
    });

    [NtlmFact]
    public void Streamed_transfer_with_Windows_credentials_moves_megabytes_both_ways() => WithLogs(() =>
    {
        var binding = Binding();
        binding.TransferMode = TransferMode.Streamed;
        binding.MaxReceivedMessageSize = 64L << 20;
        var factory = WithCredential(new ChannelFactory<IStreamService>(binding, new EndpointAddress(fixture.Stream)));
        var streams = factory.CreateChannel();

        const int size = 3 << 20; // NegotiateStream frames are at most 64 KB: many frames each way
        Assert.Equal(size, streams.Upload(new MemoryStream(new byte[size])));
        using var download = streams.Download(size);
        var buffer = new byte[64 * 1024];
        long total = 0, mismatches = 0;
        for (int n; (n = download.Read(buffer)) > 0; total += n)
            for (var i = 0; i < n; i++)
                if (buffer[i] != (byte)((total + i) % 251)) mismatches++;
        Assert.Equal(size, total);
        Assert.Equal(0, mismatches);
        Close(streams, factory);
    });

    [NtlmFact]
    public void Sign_only_protection_is_served_where_the_endpoint_asks_for_it() => WithLogs(() =>
    {
        var binding = Binding();
        binding.Security.Transport.ProtectionLevel = System.Net.Security.ProtectionLevel.Sign;
        var factory = EchoFactory(fixture.Signed, binding);
        var echo = factory.CreateChannel();

        Assert.Equal("signed", echo.Echo("signed"));
        Close(echo, factory);
    });

    [NtlmFact]
    public void ProtectionLevel_None_is_served_where_the_endpoint_asks_for_it() => WithLogs(() =>
    {
        var binding = Binding();
        binding.Security.Transport.ProtectionLevel = System.Net.Security.ProtectionLevel.None;
        var factory = EchoFactory(fixture.Unprotected, binding);
        var echo = factory.CreateChannel();

        Assert.Equal("authenticated only", echo.Echo("authenticated only"));
        Close(echo, factory);
    });

    [NtlmFact]
    public void A_client_asking_less_protection_than_the_endpoint_requires_is_refused() => WithLogs(() =>
    {
        var binding = Binding();
        binding.Security.Transport.ProtectionLevel = System.Net.Security.ProtectionLevel.Sign;
        var factory = EchoFactory(fixture.Echo, binding);
        var echo = factory.CreateChannel();

        // As against WCF's server: NegotiateStream's server finds the context below its required level and says so.
        var refused = Assert.Throws<System.ServiceModel.Security.SecurityNegotiationException>(() => echo.Echo("signed only"));
        ((IClientChannel)echo).Abort();
        factory.Abort();
        Assert.Contains("A remote side security requirement was not fulfilled during authentication", refused.Message);
        // (The fixture's worker log is shared by the specs: the line is found by what it says.)
        fixture.Worker.WaitForLineAsync(@"Windows authentication \(application/negotiate\) with .* for .*/w/echo/ failed, connection closed: " +
            @".*the client's ProtectionLevel is below the endpoint's protection-level EncryptAndSign", TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
    });

    [NtlmFact]
    public void Pooled_connections_authenticate_each_session_again() => WithLogs(() =>
    {
        // WCF's client pools the raw connection after End: the next session upgrades again on the same socket.
        var factories = new[] { fixture.Echo, fixture.Other }.Select(a => EchoFactory(a)).ToList();
        foreach (var factory in factories) factory.Open();
        for (var round = 0; round < 2; round++)
            for (var i = 0; i < factories.Count; i++)
            {
                var echo = factories[i].CreateChannel();
                Assert.Equal($"{round}/{i}", echo.Echo($"{round}/{i}"));
                ((IClientChannel)echo).Close();
            }
        foreach (var factory in factories) factory.Close();
    });

    [NtlmFact]
    public void A_wrong_password_is_refused_as_WCF_refuses_it() => WithLogs(() =>
    {
        var factory = EchoFactory(fixture.Echo, password: "not-the-password");
        var echo = factory.CreateChannel();

        // WCF's client reports a failed Negotiate as SecurityNegotiationException (against Windows too). Its message is
        // .NET's on Linux: NegotiateStream's client reads the server's error frame as "failed on the remote side"
        // (on Windows: "The server has rejected the client credentials", an InvalidCredentialException inside).
        var refused = Assert.Throws<System.ServiceModel.Security.SecurityNegotiationException>(() => echo.Echo("let me in"));
        ((IClientChannel)echo).Abort();
        factory.Abort();
        Assert.IsAssignableFrom<System.Security.Authentication.AuthenticationException>(refused.InnerException);
        Assert.Contains("Authentication failed on the remote side", refused.Message);
        var line = fixture.Worker.WaitForLineAsync(
            @"Windows authentication \(application/negotiate\) with .* for .*/w/echo/ failed, connection closed: the client's credentials were refused \(unknown user or wrong password in the NTLM user file",
            TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        Assert.Contains("0x80090304", line); // SEC_E_INTERNAL_ERROR: all .NET tells on Linux
    });

    [NtlmFact]
    public void An_unsecured_client_of_a_Windows_endpoint_is_refused() => WithLogs(() =>
    {
        var factory = new ChannelFactory<IEchoService>(new NetTcpBinding(SecurityMode.None), new EndpointAddress(fixture.Echo));
        var echo = factory.CreateChannel();

        var refused = Assert.Throws<ProtocolException>(() => echo.Echo("plain"));
        ((IClientChannel)echo).Abort();
        factory.Abort();
        Assert.Contains("rejected the session-establishment request", refused.Message);
    });

    [NtlmFact]
    public void A_TLS_client_of_a_Windows_endpoint_gets_UpgradeInvalid() => WithLogs(() =>
    {
        var binding = new NetTcpBinding(SecurityMode.Transport) { Security = { Transport = { ClientCredentialType = TcpClientCredentialType.None } } };
        var factory = new ChannelFactory<IEchoService>(binding, new EndpointAddress(fixture.Echo));
        var echo = factory.CreateChannel();

        // WCF's client reads the UpgradeInvalid fault so (the endpoint serves application/negotiate, not application/ssl-tls).
        var refused = Assert.Throws<ProtocolException>(() => echo.Echo("tls"));
        ((IClientChannel)echo).Abort();
        factory.Abort();
        Assert.Contains("The requested upgrade is not supported", refused.Message);
    });

    private sealed class RecordingCallback : IEchoCallback
    {
        public ManualResetEventSlim Received { get; } = new();
        public string? Text { get; private set; }

        public void Echoed(string text)
        {
            Text = text;
            Received.Set();
        }
    }
}

/// <summary>A worker whose Windows credentials cannot work does not start: exit 78 and one line naming what is missing.</summary>
public sealed class WindowsCredentialsFailFastSpec
{
    [Fact]
    public async Task A_worker_whose_NTLM_user_file_is_missing_exits_78_naming_the_file_and_the_setting()
    {
        using var host = new PortShareHost(); // no router: nothing may be tried
        var config = host.WriteConfig("""
            akka-port-share.worker.transport-security { mode = transport, client-credential-type = windows, ntlm-user-file = "/nonexistent/aps/users" }
            """);

        using var worker = host.StartWorkerAs("no-users", null, ["--wcf-address", host.Address("w/echo/"), "--config", config]);

        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)), worker.Output);
        Assert.Equal(78, worker.ExitCode);
        Assert.Contains("akka-port-share.worker.transport-security.ntlm-user-file: /nonexistent/aps/users does not exist (or cannot be read)",
            worker.Output);
        Assert.DoesNotContain("Worker pid", worker.Output); // the worker actor never started
    }
}
