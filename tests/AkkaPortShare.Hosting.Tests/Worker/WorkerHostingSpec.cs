using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Worker.Hosting;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Worker.WorkerProtocol;

namespace AkkaPortShare.Hosting.Tests.Worker;

/// <summary>
/// <see cref="WorkerHostingExtensions.WithPortShareWorker"/> in a host run by Akka.Hosting.TestKit: the worker is
/// in the ActorRegistry, registers every served address with the registry at the router's path (here a stand-in
/// in this same system) and serves on its own data port.
/// </summary>
public sealed class WorkerHostingSpec(ITestOutputHelper output)
    : Akka.Hosting.TestKit.TestKit(SystemName, output)
{
    private const string SystemName = "WorkerHostingSpec";
    private const string Echo = "net.tcp://+:8808/echo/";
    private const string Other = "net.tcp://+:8808/other/";
    private readonly string _handoverDirectory = Path.Combine(Path.GetTempPath(), $"aps-hosting-spec-{Guid.NewGuid():N}");

    /// <summary>Answers every Register as the router's registry would.</summary>
    private sealed class StandInRegistry : ReceiveActor
    {
        public StandInRegistry() => Receive<Register>(r => Sender.Tell(new Registered(r.BaseAddress, "relay")));
    }

    private sealed class Idle : ReceiveActor;

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider) => builder
        .AddHocon($$"""
            akka.actor.provider = local
            akka-port-share.worker.handover-directory = "{{_handoverDirectory}}"
            """, HoconAddMode.Prepend)
        .WithActors((system, _) => system.ActorOf(Props.Create<StandInRegistry>(), "port-share-registry"))
        .WithPortShareWorker(worker =>
        {
            worker.Router = $"akka://{SystemName}";
            worker.Serve(Echo, Props.Create<Idle>()).Serve(Other, Props.Create<Idle>());
        });

    [Fact]
    public async Task WithPortShareWorker_must_register_the_worker_and_every_served_address()
    {
        var worker = await ActorRegistry.GetAsync<PortShareWorker>();

        await AwaitAssertAsync(async () =>
        {
            var status = await worker.Ask<WorkerStatus>(GetStatus.Instance, TimeSpan.FromSeconds(3));
            Assert.Equal([Echo, Other], status.Addresses.Select(a => a.BaseAddress).Order());
            Assert.All(status.Addresses, a => Assert.Equal(RegistrationState.Registered, a.State));
            Assert.NotEqual(0, status.DataPort);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
    }

    protected override async Task AfterAllAsync()
    {
        await base.AfterAllAsync(); // stops the host: the worker closes its listeners and deletes its socket file
        try { Directory.Delete(_handoverDirectory, recursive: true); } catch { /* never created */ }
    }
}
