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
        var fault = Assert.Throws<FaultException<EchoFault>>(() => echo.Fail("inside negotiate"));
        Assert.Equal("inside negotiate", fault.Detail.Reason);
        Assert.Equal("still", echo.Echo("still"));
        Close(echo, factory);
    });
}
