using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Contracts.Hosting;

namespace AkkaPortShare.Router.Supervision;

/// <summary>
/// Watches the router's core actors (listener, registry, fault drains). If one stops while the router is not
/// shutting down, a process that stays alive would route nothing and no service manager would notice, so the
/// watchdog logs one Error line naming it, sets the exit code to <see cref="ExitCode"/> and runs Akka's coordinated
/// shutdown: the process ends and its service manager (systemd's Restart=on-failure) starts it again.
/// </summary>
internal sealed class CoreActorWatchdog : ReceiveActor
{
    /// <summary>EX_SOFTWARE (sysexits.h): an internal error.</summary>
    public const int ExitCode = 70;

    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <param name="coreActors">The actors the router cannot run without.</param>
    /// <param name="onLost">What to do about a lost one (tests); by default <see cref="ExitProcess"/>.</param>
    public static Props Props(IReadOnlyList<IActorRef> coreActors, Action<ActorSystem, string>? onLost = null) =>
        Akka.Actor.Props.Create(() => new CoreActorWatchdog(coreActors, onLost ?? ExitProcess));

    public CoreActorWatchdog(IReadOnlyList<IActorRef> coreActors, Action<ActorSystem, string> onLost)
    {
        foreach (var actor in coreActors) Context.Watch(actor);
        Receive<Terminated>(t =>
        {
            if (CoordinatedShutdown.Get(Context.System).ShutdownReason is not null) return;
            var name = t.ActorRef.Path.Name;
            _log.Error("The router's core actor {0} stopped unexpectedly; the router exits with code {1} so that its " +
                "service manager starts it again", name, ExitCode);
            onLost(Context.System, name);
        });
    }

    public static void ExitProcess(ActorSystem system, string actorName) =>
        ProcessExit.Run(system, ExitCode, $"core actor {actorName} stopped");
}
