using Akka.Actor;

namespace AkkaPortShare.Worker.Hosting;

/// <summary>
/// Ends a worker that cannot do its job, with a sysexits.h code (see README, Operations). A library may not call
/// Environment.Exit under its host, so it sets <see cref="Environment.ExitCode"/> and runs Akka's coordinated
/// shutdown with a reason carrying the code: the actor system terminates, Akka.Hosting stops the host, and a
/// program that returns <see cref="Environment.ExitCode"/> (or whose Main returns nothing) exits with it.
/// </summary>
public static class WorkerExit
{
    /// <summary>EX_UNAVAILABLE: the router did not register every address within start-timeout.</summary>
    public const int RouterUnavailable = 69;

    /// <summary>EX_CANTCREAT: the hand-over directory cannot be created, or is not safe to use.</summary>
    public const int HandoverDirectory = 73;

    /// <summary>EX_PROTOCOL: the router refused a registration (exit-on-refusal = on).</summary>
    public const int Refused = 76;

    /// <summary>EX_CONFIG: a setting or a base address is wrong.</summary>
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
}
