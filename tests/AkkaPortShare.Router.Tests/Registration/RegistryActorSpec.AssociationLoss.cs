using System.Net;
using System.Net.Sockets;
using Akka.Remote;
using AkkaPortShare.Protocol.Framing;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Registration;

/// <summary>
/// A worker admitted by registration-secret whose association with the router closed: its data endpoint is probed,
/// and its registrations go at once when nothing listens there any more; a worker that still listens stays.
/// (The association's address is the test's own actor system: that is where the probe registering the worker lives.)
/// </summary>
public sealed partial class RegistryActorSpec
{
    private const string Lost = "net.tcp://+:8808/lost/";
    private const string LostVia = "net.tcp://localhost:8808/lost/svc";

    private void AssociationClosedWithThisSystem() =>
        Sys.EventStream.Publish(new DisassociatedEvent(((Akka.Actor.ExtendedActorSystem)Sys).Provider.DefaultAddress,
            TestActor.Path.Address, inbound: true));

    [Fact]
    public async Task RegistryActor_must_remove_a_secret_workers_registrations_when_its_association_closed_and_nothing_listens_at_its_data_endpoint()
    {
        var registry = StartRegistry();
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // refused from now on: the worker's listener went with its process
        await RegisterAsync<Registered>(registry, CreateTestProbe(), Lost, RelayOnly(404) with { DataPort = port });
        Assert.IsType<RouteFound>(await ResolveAsync(registry, LostVia));

        AssociationClosedWithThisSystem();

        await AwaitAssertAsync(async () => Assert.IsType<RouteNotFound>(await ResolveAsync(registry, LostVia)),
            TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task RegistryActor_must_keep_a_secret_worker_whose_association_closed_and_whose_data_endpoint_answers_too_busy()
    {
        var registry = StartRegistry();
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        await RegisterAsync<Registered>(registry, CreateTestProbe(), Lost,
            RelayOnly(406) with { DataPort = ((IPEndPoint)busy.LocalEndpoint).Port });

        AssociationClosedWithThisSystem();

        // A worker at max-connections answers a new connection with a fault at once: alive.
        using var probed = await busy.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(5));
        await probed.SendAsync(FramingWriter.Fault(FramingFaults.ServerTooBusy));
        await Task.Delay(200);
        Assert.IsType<RouteFound>(await ResolveAsync(registry, LostVia));
    }

    [Fact]
    public async Task RegistryActor_must_keep_a_secret_worker_whose_association_closed_while_its_data_endpoint_still_accepts()
    {
        var registry = StartRegistry();
        using var listening = new TcpListener(IPAddress.Loopback, 0);
        listening.Start();
        await RegisterAsync<Registered>(registry, CreateTestProbe(), Lost,
            RelayOnly(405) with { DataPort = ((IPEndPoint)listening.LocalEndpoint).Port });

        AssociationClosedWithThisSystem();

        using var probed = await listening.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(5)); // the probe came
        await Task.Delay(200);
        Assert.IsType<RouteFound>(await ResolveAsync(registry, LostVia));
    }
}
