using Akka.Actor;
using Akka.Event;

namespace AkkaPortShare.Contracts.Hosting;

/// <summary>
/// Ends a router or worker that cannot do its job, with a sysexits.h code (see README, Operations). A library may
/// not call Environment.Exit under its host, so it sets <see cref="Environment.ExitCode"/> and runs Akka's
/// coordinated shutdown with a reason carrying the code: the actor system terminates, Akka.Hosting stops the host,
/// and a program that returns <see cref="Environment.ExitCode"/> (or whose Main returns nothing) exits with it.
/// </summary>
internal static class ProcessExit
{
    /// <summary>EX_CONFIG: a setting (or a served address) is wrong.</summary>
    public const int Configuration = 78;

    /// <summary>The reason given to CoordinatedShutdown; <see cref="ToString"/> is the cause, for its log line.</summary>
    public sealed class Failed(int exitCode, string cause) : CoordinatedShutdown.Reason
    {
        public override int ExitCode { get; } = exitCode;

        public string Cause { get; } = cause;

        public override string ToString() => Cause;
    }

    /// <summary>Sets the exit code and stops the actor system (and with it the host); returns at once.</summary>
    public static void Run(ActorSystem system, int exitCode, string cause)
    {
        Environment.ExitCode = exitCode;
        CoordinatedShutdown.Get(system).Run(new Failed(exitCode, cause));
    }

    /// <summary>
    /// Settings problems found as the actor system starts (options given in C# included): one Error line each,
    /// one saying what does not start, then exit 78. Akka.Hosting would otherwise answer the exception with three
    /// stack traces and an unhandled exception (exit 134).
    /// </summary>
    public static void InvalidConfiguration(ActorSystem system, Type source, string what, IReadOnlyList<string> problems)
    {
        var log = Logging.GetLogger(system, source);
        foreach (var problem in problems) log.Error("Invalid configuration: {0}", problem);
        var cause = $"{problems.Count} configuration problem{(problems.Count == 1 ? "" : "s")}";
        log.Error("The {0} does not start ({1}); it exits with code {2} (EX_CONFIG)", what, cause, Configuration);
        Run(system, Configuration, cause);
    }
}
