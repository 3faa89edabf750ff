using System.Net.Sockets;
using Akka.Actor;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Tests.TestSupport;
using static AkkaPortShare.Router.RouterProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Connections;

/// <summary>
/// Sockets draining after a fault are bounded: with max-draining-connections = 2 and a fault-timeout far longer
/// than the test, a third fault cuts the oldest drain short, so its client sees the fault and then the close at
/// once, while the two newest are still draining.
/// </summary>
public sealed class FaultDrainActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka.loglevel = INFO
        akka-port-share.router {
          max-draining-connections = 2
          fault-timeout = 60s
        }
        """;

    private readonly RouterSettings _settings;
    private readonly List<Socket> _sockets = [];

    public FaultDrainActorSpec() : base(Config, "FaultDrainActorSpec") => _settings = RouterSettings.Create(Sys);

    protected override void Dispose(bool disposing)
    {
        foreach (var socket in _sockets) socket.DisposeQuietly();
        base.Dispose(disposing);
    }

    /// <summary>Hands the router's end of a fresh pair to the actor; returns both ends once the fault arrived.</summary>
    private async Task<(Socket Server, Socket Client)> FaultAsync(IActorRef drains, string peer)
    {
        var (server, client) = await Loopback.ConnectedPairAsync();
        _sockets.Add(server);
        _sockets.Add(client);
        drains.Tell(new DrainAfterFault(server, FramingFaults.EndpointNotFound, peer));
        // The fault arrives first, whatever happens to the drain afterwards.
        var fault = FramingWriter.Fault(FramingFaults.EndpointNotFound);
        Assert.Equal(fault, await Loopback.ReadExactlyAsync(client, fault.Length));
        return (server, client);
    }

    // The client sees end of stream as soon as the fault is sent (the router half-closes), so whether the drain
    // still holds the socket is read on the router's end: it is closed when the drain ends.
    private static async Task<bool> ClosedWithinAsync(Socket server, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!server.SafeHandle.IsClosed && DateTime.UtcNow < deadline) await Task.Delay(20);
        return server.SafeHandle.IsClosed;
    }

    [Fact]
    public async Task FaultDrainActor_must_cut_the_oldest_drain_short_when_max_draining_connections_is_reached()
    {
        var drains = Sys.ActorOf(FaultDrainActor.Props(_settings));
        var (first, _) = await FaultAsync(drains, "first");
        var (second, _) = await FaultAsync(drains, "second");
        Assert.Equal(new DrainStatus(2, 0), await drains.Ask<DrainStatus>(GetDrainStatus.Instance, TimeSpan.FromSeconds(3)));

        await EventFilter.Info(contains: "Closing connection from first now, after its fault: max-draining-connections 2 reached")
            .ExpectOneAsync(async () => await FaultAsync(drains, "third"));

        Assert.True(await ClosedWithinAsync(first, TimeSpan.FromSeconds(5)), "the oldest drain was not cut short");
        Assert.False(await ClosedWithinAsync(second, TimeSpan.FromMilliseconds(300)), "a newer drain was cut too");
        Assert.Equal(new DrainStatus(2, 1), await drains.Ask<DrainStatus>(GetDrainStatus.Instance, TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task FaultDrainActor_must_forget_a_drain_when_its_client_closes()
    {
        var drains = Sys.ActorOf(FaultDrainActor.Props(_settings));
        var (server, client) = await FaultAsync(drains, "leaving");
        client.Shutdown(SocketShutdown.Send); // the drain reads EOF and closes

        Assert.True(await ClosedWithinAsync(server, TimeSpan.FromSeconds(5)));
        await AwaitAssertAsync(async () => Assert.Equal(0,
            (await drains.Ask<DrainStatus>(GetDrainStatus.Instance, TimeSpan.FromSeconds(3))).Draining));
    }
}
