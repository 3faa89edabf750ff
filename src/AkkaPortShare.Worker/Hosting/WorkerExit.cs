using Akka.Actor;
using AkkaPortShare.Contracts.Hosting;

namespace AkkaPortShare.Worker.Hosting;

/// <summary>The worker's exit codes (sysexits.h, see README, Operations); <see cref="ProcessExit"/> ends the process.</summary>
internal static class WorkerExit
{
    /// <summary>EX_UNAVAILABLE: the router did not register every address within start-timeout.</summary>
    public const int RouterUnavailable = 69;

    /// <summary>EX_CANTCREAT: the hand-over directory cannot be created, or is not safe to use.</summary>
    public const int HandoverDirectory = 73;

    /// <summary>EX_PROTOCOL: the router refused a registration (exit-on-refusal = on).</summary>
    public const int Refused = 76;

    /// <summary>EX_CONFIG: a setting or a base address is wrong.</summary>
    public const int Configuration = ProcessExit.Configuration;

    /// <summary>Sets the exit code and stops the actor system (and with it the host); returns at once.</summary>
    public static void Run(ActorSystem system, int exitCode, string cause) => ProcessExit.Run(system, exitCode, cause);
}
