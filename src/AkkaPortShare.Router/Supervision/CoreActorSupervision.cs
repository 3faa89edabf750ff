using Akka.Actor;
using AkkaPortShare.Router.Hosting;

namespace AkkaPortShare.Router.Supervision;

/// <summary>
/// The user guardian's strategy in the router (<c>akka.actor.guardian-supervisor-strategy</c>): what happens when
/// one of the router's core actors throws. Whatever it stops, <see cref="CoreActorWatchdog"/> turns into the
/// process's exit, so a router never lives on without its listener or registry.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>The registry is never restarted in place. Its address table is what every worker registered against: a
/// fresh, empty one would route nothing for workers that cannot notice the restart (relay-only workers have no
/// hand-over channel to see close). It is stopped, the process exits, and its service manager starts a clean
/// router that every worker registers with again.</item>
/// <item>The listener and the fault drains hold only sockets of clients, which a restart closes (clients reconnect);
/// they are restarted, at most <see cref="MaxRestarts"/> times within <see cref="RestartWindow"/>, beyond which
/// they are stopped. One that cannot start (the port is taken) is stopped at once.</item>
/// <item><see cref="ActorKilledException"/> and <see cref="DeathPactException"/> stop, as Akka's default does.</item>
/// </list>
/// </remarks>
internal sealed class CoreActorSupervision : SupervisorStrategyConfigurator
{
    // Not settings: Akka builds this configurator by type name with no access to the router's settings, and these
    // bound a crash loop of a core actor (a bug), which is nothing an operator tunes; the process exits after it.
    public const int MaxRestarts = 3;
    public static readonly TimeSpan RestartWindow = TimeSpan.FromMinutes(1);

    public override SupervisorStrategy Create() => new Strategy();

    private sealed class Strategy() : OneForOneStrategy(MaxRestarts, RestartWindow, Decide)
    {
        protected override Directive Handle(IActorRef child, Exception exception) =>
            child.Path.Name == RouterHostingExtensions.RegistryName ? Directive.Stop : base.Handle(child, exception);

        private static Directive Decide(Exception exception) => exception switch
        {
            ActorInitializationException or ActorKilledException or DeathPactException => Directive.Stop,
            _ => Directive.Restart,
        };
    }
}
