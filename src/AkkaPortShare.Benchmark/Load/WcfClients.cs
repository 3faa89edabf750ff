using System.ServiceModel;
using System.ServiceModel.Channels;

namespace AkkaPortShare.Benchmark.Load;

/// <summary>
/// The part of the sample worker's IEchoService the reliable-session scenario calls, as a WCF client sees it (same
/// name and namespace, so the actions match the service's).
/// </summary>
[ServiceContract(Namespace = "urn:akkaportshare:samples", Name = "IEchoService")]
public interface IBenchEchoService
{
    [OperationContract]
    string Echo(string text);

    /// <summary>Task-based: the loop awaits the send instead of blocking a thread on it (fewer thread hand-offs per message).</summary>
    [OperationContract(IsOneWay = true, Action = "urn:akkaportshare:samples/IEchoService/Post")]
    Task PostAsync(string text);

    [OperationContract]
    int PostedCount();
}

/// <summary>The real WCF client (System.ServiceModel.NetTcp), with and without a reliable session.</summary>
public static class WcfClients
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// NetTcpBinding's elements with a reliable session whose transfer window is set: the settings a user needs a
    /// CustomBinding for (NetTcpBinding exposes only Ordered and InactivityTimeout).
    /// </summary>
    public static Binding Reliable(int window, bool flowControl) =>
        new CustomBinding(
            new ReliableSessionBindingElement { MaxTransferWindowSize = window, Ordered = true, FlowControlEnabled = flowControl },
            new BinaryMessageEncodingBindingElement(),
            new TcpTransportBindingElement())
        {
            OpenTimeout = Timeout, SendTimeout = Timeout, CloseTimeout = Timeout, ReceiveTimeout = Timeout,
        };

    public static Binding Plain() =>
        new NetTcpBinding(SecurityMode.None)
        {
            OpenTimeout = Timeout, SendTimeout = Timeout, CloseTimeout = Timeout, ReceiveTimeout = Timeout,
        };

    public static (ChannelFactory<IBenchEchoService> Factory, IBenchEchoService Channel) Open(Binding binding, Uri address)
    {
        var factory = new ChannelFactory<IBenchEchoService>(binding, new EndpointAddress(address));
        var channel = factory.CreateChannel();
        ((IClientChannel)channel).Open();
        return (factory, channel);
    }

    public static void Close(ChannelFactory<IBenchEchoService> factory, IBenchEchoService channel)
    {
        try
        {
            ((IClientChannel)channel).Close();
            factory.Close();
        }
        catch (Exception e) when (e is CommunicationException or TimeoutException)
        {
            ((IClientChannel)channel).Abort();
            factory.Abort();
            throw;
        }
    }

    public static void Abort(ChannelFactory<IBenchEchoService>? factory, IBenchEchoService? channel)
    {
        (channel as IClientChannel)?.Abort();
        factory?.Abort();
    }
}
