namespace AkkaPortShare.Registration;

/// <summary>
/// What a worker and the router's registry say to each other. These messages cross Akka.Remote, so they hold
/// only strings, numbers and actor references. The sender of <see cref="Register"/> is the worker's identity:
/// the registry watches it and removes its addresses when it goes away.
/// </summary>
public static class RegistryProtocol
{
    public interface IRegistryCommand;

    /// <summary>Asks for one base address, e.g. <c>net.tcp://+:8808/echo/</c>. Sending it again is harmless.</summary>
    public sealed record Register(string BaseAddress, WorkerEndpoint Worker) : IRegistryCommand;

    /// <summary>Gives an address back. Only the worker that registered it may do so.</summary>
    public sealed record Unregister(string BaseAddress) : IRegistryCommand;

    public sealed record Registered(string BaseAddress, string HandoverMode);

    public sealed record Unregistered(string BaseAddress);

    public sealed record RegistrationRefused(string BaseAddress, RefusalReason Reason, string Message);

    public enum RefusalReason
    {
        /// <summary>Another worker holds exactly this address (the Windows service's ConflictingRegistration).</summary>
        AddressAlreadyInUse,
        InvalidAddress,
        PathTooLong,
        NotOwner,
        HandoverUnavailable,
        NotAuthorized,
    }
}

/// <summary>How the router reaches a worker's connections.</summary>
/// <param name="ProcessId">The worker's pid; the router checks it against the hand-over socket's peer credentials.</param>
/// <param name="HandoverPath">Unix-domain socket where the worker takes passed sockets; null where it cannot.</param>
/// <param name="DataHost">Host of the worker's own net.tcp listener, used by the relay fallback.</param>
/// <param name="DataPort">Port of that listener.</param>
public sealed record WorkerEndpoint(int ProcessId, string HostName, string? HandoverPath, string DataHost, int DataPort);
