namespace AkkaPortShare.Contracts.Registration;

/// <summary>
/// What a worker and the router's registry say to each other. These messages cross Akka.Remote, so they hold
/// only strings, numbers and actor references.
/// </summary>
/// <remarks>
/// Akka.Remote does not authenticate the sender of a message (any process that reaches the remoting port can name
/// any sender), so a command proves who sent it by what it carries: a worker on the router's host proves it is
/// the process behind its hand-over socket with the <c>ChannelToken</c> the registry sent through that socket,
/// and, when the router is configured with a registration secret, every command carries that secret.
/// These messages are the only ones the router reads from the network (<see cref="RegistryProtocolSerializer"/>,
/// field by field); its internal questions (Resolve, GetRegistrations, ...) are refused there, never answered.
/// </remarks>
internal static class RegistryProtocol
{
    /// <summary>The registry's name under the router's /user guardian: the router creates it, workers address it.</summary>
    public const string RegistryName = "port-share-registry";

    /// <summary>
    /// Where workers send registrations, after the router's address (<c>{router}/user/port-share-registry</c>); also
    /// the one path the router's untrusted-mode remoting lets selections reach (its reference.conf, which HOCON cannot
    /// take from here: RouterHostingExtensionsSpec checks that the two agree).
    /// </summary>
    public const string RegistryPath = "/user/" + RegistryName;

    public interface IRegistryCommand;

    /// <summary>
    /// Asks for one base address, e.g. <c>net.tcp://+:8808/echo/</c>. Sending it again is harmless. A worker with
    /// a hand-over socket first gets no answer: the registry checks the socket's peer (pid and user), sends a
    /// channel token through it, and answers the Register that carries that token.
    /// </summary>
    /// <param name="Secret">The router's registration-secret, when it has one.</param>
    /// <param name="ChannelToken">What the registry sent through this worker's hand-over socket.</param>
    /// <param name="Shared">The worker lets other workers hold the address too (share-addresses); the address is
    /// shared only while every holder asked for it, otherwise a second one is refused AddressAlreadyInUse.</param>
    public sealed record Register(string BaseAddress, WorkerEndpoint Worker, string? Secret = null, string? ChannelToken = null,
        bool Shared = false)
        : IRegistryCommand
    {
        public override string ToString() =>
            $"Register {{ BaseAddress = {BaseAddress}, Worker = {Worker}, Secret = {Redacted(Secret)}, ChannelToken = {Redacted(ChannelToken)}, Shared = {Shared} }}";
    }

    /// <summary>
    /// A worker that shares addresses tells the registry how many connections it holds now, so that new connections
    /// go to the least loaded holder. Sent only when the count changed, at most once per load-report-interval.
    /// The worker proves itself as for Register; the registry adds its own hand-overs since the last report.
    /// </summary>
    public sealed record ConnectionLoad(int OpenConnections, string? Secret = null, string? ChannelToken = null) : IRegistryCommand
    {
        public override string ToString() =>
            $"ConnectionLoad {{ OpenConnections = {OpenConnections}, Secret = {Redacted(Secret)}, ChannelToken = {Redacted(ChannelToken)} }}";
    }

    /// <summary>Gives an address back. Only the worker that registered it may do so (it proves it as Register does).</summary>
    public sealed record Unregister(string BaseAddress, string? Secret = null, string? ChannelToken = null) : IRegistryCommand
    {
        public override string ToString() =>
            $"Unregister {{ BaseAddress = {BaseAddress}, Secret = {Redacted(Secret)}, ChannelToken = {Redacted(ChannelToken)} }}";
    }

    /// <summary>
    /// A worker of a shared address asks which worker holds a reliable session's key: the session's connection came to
    /// it through a relay, so no router can pass it on, and the worker carries it there itself. Answered with
    /// <see cref="SessionHolder"/>, only to a holder of <paramref name="BaseAddress"/> that proves itself as for
    /// Register. <paramref name="SessionKey"/> is SessionRouteKey's text (fourteen hexadecimal digits).
    /// </summary>
    public sealed record FindSessionHolder(long RequestId, string BaseAddress, string SessionKey, string? Secret = null,
        string? ChannelToken = null) : IRegistryCommand
    {
        public override string ToString() =>
            $"FindSessionHolder {{ RequestId = {RequestId}, BaseAddress = {BaseAddress}, SessionKey = {SessionKey}, Secret = {Redacted(Secret)}, ChannelToken = {Redacted(ChannelToken)} }}";
    }

    /// <summary>The data endpoint of the worker holding the key asked for; <paramref name="DataHost"/> null: no worker of the address answers for it.</summary>
    public sealed record SessionHolder(long RequestId, string? DataHost, int DataPort);

    private static string Redacted(string? value) => value is null ? "(none)" : "(redacted)";

    public sealed record Registered(string BaseAddress, string HandoverMode);

    /// <summary>
    /// Registry to a worker it has not admitted yet, sent before the registry connects to the worker's hand-over
    /// socket: the process that is about to connect. The worker takes sockets and tokens only from a hand-over
    /// channel whose peer (SO_PEERCRED) is this pid and uid, so no other process can feed it connections.
    /// </summary>
    public sealed record AdmissionStarted(string BaseAddress, int RouterProcessId, uint RouterUserId);

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

        /// <summary>The address names a port (or an IP-literal host) the router does not listen on.</summary>
        NotListening,
    }
}

/// <summary>How the router reaches a worker's connections.</summary>
/// <param name="ProcessId">The worker's pid; the router checks it against the hand-over socket's peer credentials.</param>
/// <param name="HandoverPath">Unix-domain socket where the worker takes passed sockets; null where it cannot.</param>
/// <param name="DataHost">Host of the worker's own net.tcp listener, used by the relay fallback.</param>
/// <param name="DataPort">Port of that listener.</param>
internal sealed record WorkerEndpoint(int ProcessId, string HostName, string? HandoverPath, string DataHost, int DataPort)
{
    /// <summary>
    /// The same worker process seen through another router: pid, host and data endpoint (the hand-over path is not
    /// compared: a router on another host does not keep it).
    /// </summary>
    public bool SameProcessAs(WorkerEndpoint other) => ProcessId == other.ProcessId && HostName == other.HostName &&
        DataHost == other.DataHost && DataPort == other.DataPort;
}
