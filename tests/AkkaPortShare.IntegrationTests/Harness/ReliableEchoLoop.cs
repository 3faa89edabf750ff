using System.ServiceModel;
using AkkaPortShare.IntegrationTests.ServiceModel;

namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>
/// One reliable session of the real WCF client (NetTcpBinding, reliable session on, generous timeouts) against the
/// sample's IEchoService: numbers 1..N posted one-way with an Echo checkpoint every tenth, then what the service saw
/// (<c>received=N outOfOrder=0</c> when nothing was lost, duplicated or reordered).
/// </summary>
internal static class ReliableEchoLoop
{
    public static string Run(string address, int messages)
    {
        var binding = new NetTcpBinding(SecurityMode.None, reliableSessionEnabled: true)
        {
            OpenTimeout = TimeSpan.FromSeconds(60), SendTimeout = TimeSpan.FromSeconds(60), CloseTimeout = TimeSpan.FromSeconds(60),
        };
        // The client polls (AckRequested) after InactivityTimeout / 2 of quiet: 15 s here, 5 min by default. A cut
        // connection the WCF client on Linux reads as a plain end of stream (see CuttingRelay) does not fault its
        // channel, so it does not reconnect: with its messages acknowledged and a reply lost with the connection,
        // it would wait for that poll, past the call's 60 s (seen under the full suite's load: the relay's journal
        // shows no new connection after the cut). The poll opens a new connection, and the service resends what
        // it had sent on the old one. The server can do nothing sooner: it cannot connect to the client.
        binding.ReliableSession.InactivityTimeout = TimeSpan.FromSeconds(30);
        var factory = new ChannelFactory<IEchoService>(binding, new EndpointAddress(address));
        var echo = factory.CreateChannel();
        for (var i = 1; i <= messages; i++)
        {
            Call($"PostNumber({i})", () => echo.PostNumber(i));
            if (i % 10 == 0) Assert.Equal($"checkpoint {i}", Call($"Echo(checkpoint {i})", () => echo.Echo($"checkpoint {i}")));
        }
        var summary = echo.NumbersReceived();
        ((IClientChannel)echo).Close();
        factory.Close();
        return summary;
    }

    // A failed call says which it was and when it started, to be found in the relay's journal and the processes' logs.
    private static void Call(string what, Action call) => Call(what, () => { call(); return 0; });

    private static T Call<T>(string what, Func<T> call)
    {
        var started = DateTime.UtcNow;
        try
        {
            return call();
        }
        catch (Exception e) when (e is CommunicationException or TimeoutException)
        {
            throw new CommunicationException($"{what}, called at {started:HH:mm:ss.fff} UTC, failed at {DateTime.UtcNow:HH:mm:ss.fff}: {e.Message}", e);
        }
    }
}
