using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Router.Hosting;
using AkkaPortShare.Router.Supervision;

namespace AkkaPortShare.Router.Tests.Supervision;

/// <summary>
/// What the router's user guardian does when a core actor throws (CoreActorSupervision), and what the watchdog does
/// when one stops: the registry is stopped at once, the listener restarted a few times, and a stop is reported.
/// </summary>
public sealed class CoreActorSupervisionSpec() : Akka.TestKit.Xunit2.TestKit($$"""
    akka.actor.provider = local
    akka.actor.guardian-supervisor-strategy = "{{typeof(CoreActorSupervision).AssemblyQualifiedName}}"
    """, "CoreActorSupervisionSpec")
{
    private sealed class Fragile : ReceiveActor
    {
        public Fragile(IActorRef probe)
        {
            Receive<string>(_ => throw new InvalidOperationException("a bug"));
            probe.Tell($"started {Self.Path.Name}");
        }
    }

    [Fact]
    public async Task A_registry_that_throws_is_stopped_and_the_watchdog_reports_it_once()
    {
        var probe = CreateTestProbe();
        var registry = Sys.ActorOf(Props.Create(() => new Fragile(probe.Ref)), RouterHostingExtensions.RegistryName);
        var listener = Sys.ActorOf(Props.Create(() => new Fragile(probe.Ref)), RouterHostingExtensions.ListenerName);
        await probe.ExpectMsgAllOfAsync(["started " + RouterHostingExtensions.RegistryName,
            "started " + RouterHostingExtensions.ListenerName]).ToListAsync();
        var lost = CreateTestProbe();
        Sys.ActorOf(CoreActorWatchdog.Props([listener, registry], (_, name) => lost.Tell(name)));

        await EventFilter.Error(contains: "core actor port-share-registry stopped unexpectedly").ExpectOneAsync(async () =>
        {
            registry.Tell("fail");
            await lost.ExpectMsgAsync(RouterHostingExtensions.RegistryName);
        });
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200)); // not restarted
    }

    [Fact]
    public async Task A_listener_that_throws_is_restarted_up_to_three_times_a_minute_then_stopped()
    {
        var probe = CreateTestProbe();
        var listener = Sys.ActorOf(Props.Create(() => new Fragile(probe.Ref)), RouterHostingExtensions.ListenerName);
        await probe.ExpectMsgAsync("started " + RouterHostingExtensions.ListenerName);
        var lost = CreateTestProbe();
        Sys.ActorOf(CoreActorWatchdog.Props([listener], (_, name) => lost.Tell(name)));

        for (var i = 0; i < CoreActorSupervision.MaxRestarts; i++)
        {
            listener.Tell("fail");
            await probe.ExpectMsgAsync("started " + RouterHostingExtensions.ListenerName);
        }
        await lost.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        listener.Tell("fail");
        await lost.ExpectMsgAsync(RouterHostingExtensions.ListenerName);
    }

    [Fact]
    public async Task Kill_stops_a_core_actor_and_the_watchdog_reports_it()
    {
        var probe = CreateTestProbe();
        var drains = Sys.ActorOf(Props.Create(() => new Fragile(probe.Ref)), RouterHostingExtensions.FaultDrainsName);
        var lost = CreateTestProbe();
        Sys.ActorOf(CoreActorWatchdog.Props([drains], (_, name) => lost.Tell(name)));
        drains.Tell(Kill.Instance);
        await lost.ExpectMsgAsync(RouterHostingExtensions.FaultDrainsName);
    }
}
