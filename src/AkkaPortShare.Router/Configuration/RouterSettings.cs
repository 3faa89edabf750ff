using System.Net;
using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Interop;
using AkkaPortShare.Contracts.Registration;

namespace AkkaPortShare.Router.Configuration;

public enum HandoverMode { Auto, Fd, Relay }

/// <summary>How relayed bytes move: splice(2) in the kernel (Linux), or copied through the router's buffers.</summary>
public enum RelayEngine { Splice, Copy }

/// <summary>How new connections are spread over the workers of a shared address (shared-address-balancing).</summary>
public enum SharedAddressBalancing
{
    /// <summary>The worker holding the fewest connections (its last report plus the router's hand-overs since); ties in turn.</summary>
    LeastConnections,

    /// <summary>Each worker in turn.</summary>
    RoundRobin,
}

/// <summary>The router's settings, read from <c>akka-port-share.router</c>. Defaults live in reference.conf only.</summary>
public sealed record RouterSettings
{
    public const string ConfigPath = "akka-port-share.router";

    public required int Port { get; init; }
    public required IPAddress ListenAddress { get; init; }
    public required int ListenBacklog { get; init; }
    public required int TcpMaxSegmentSize { get; init; }

    /// <summary>How long the kernel holds a new connection until its first bytes arrive (TCP_DEFER_ACCEPT; zero: off).</summary>
    public required TimeSpan DeferAccept { get; init; }
    public required int MaxPendingAccepts { get; init; }
    public required int MaxPendingConnections { get; init; }
    public required int MaxHeldConnections { get; init; }
    public required int MaxRelayedConnections { get; init; }
    public required TimeSpan ReceiveTimeout { get; init; }

    /// <summary>How long an accepted connection waits for its preamble before a connection actor takes it (zero: not at all).</summary>
    public required TimeSpan PreambleWait { get; init; }
    public required int MaxViaSize { get; init; }
    public required int MaxContentTypeSize { get; init; }
    public required HandoverMode HandoverMode { get; init; }
    public required int FaultDrainLimit { get; init; }
    public required TimeSpan FaultTimeout { get; init; }
    public required int MaxDrainingConnections { get; init; }
    public required TimeSpan HandoverTimeout { get; init; }
    public required int HandoverQueueLimit { get; init; }
    public required int HandoverSendBuffer { get; init; }

    /// <summary>How long the accept thread waits for room in a worker's full hand-over channel (zero: not at all).</summary>
    public required TimeSpan HandoverChannelWait { get; init; }
    public required int RelayBufferSize { get; init; }
    public required RelayEngine RelayEngine { get; init; }

    /// <summary>How new connections are spread over the workers of a shared address.</summary>
    public required SharedAddressBalancing SharedAddressBalancing { get; init; }
    public required int RelayThreads { get; init; }
    public required TimeSpan RelayConnectTimeout { get; init; }

    /// <summary>allowed-worker-users as configured (names or uids); empty means the router's own user and root.</summary>
    public required IReadOnlyList<string> AllowedWorkerUsers { get; init; }

    /// <summary>The uids <see cref="AllowedWorkerUsers"/> stands for, names resolved (empty on systems without uids).</summary>
    public required IReadOnlySet<uint> AllowedWorkerUserIds { get; init; }

    public required SharedSecret RegistrationSecret { get; init; }
    public required TimeSpan AdmissionTimeout { get; init; }
    public required int MaxConcurrentAdmissions { get; init; }
    public required TimeSpan RestartGrace { get; init; }
    public required TimeSpan DrainTimeout { get; init; }

    /// <summary>control-socket as configured: a path, empty for the default place, or "off".</summary>
    public required string ControlSocket { get; init; }

    public required int ControlMaxClients { get; init; }
    public required int ControlBacklog { get; init; }
    public required TimeSpan ControlCommandTimeout { get; init; }
    public required TimeSpan ControlReplyTimeout { get; init; }

    public required TimeSpan ControlStartTimeout { get; init; }
    public required TimeSpan StopAcceptingTimeout { get; init; }
    public required TimeSpan HeldPollInterval { get; init; }
    public required TimeSpan TakeoverReplyTimeout { get; init; }
    public required TimeSpan TakeoverExitTimeout { get; init; }

    /// <summary>How long a health check waits for a core actor's answer before it reports that actor unhealthy.</summary>
    public required TimeSpan HealthCheckTimeout { get; init; }

    private RouterSettings() { }

    public static Config DefaultConfig() =>
        ConfigurationFactory.FromResource<RouterSettings>("AkkaPortShare.Router.reference.conf");

    public static RouterSettings Create(ActorSystem system) => Create(system.Settings.Config);

    /// <summary>
    /// Reads and checks <c>akka-port-share.router</c>: every unknown key, unparsable value and out-of-range setting
    /// is reported at once in a <see cref="SettingsException"/> (the host exits with 78, EX_CONFIG).
    /// </summary>
    public static RouterSettings Create(Config root)
    {
        var c = new SettingsReader(root, DefaultConfig(), ConfigPath);
        var users = c.StringList("allowed-worker-users").Select(u => u.Trim()).ToList();
        var (userIds, unknownUsers) = ResolveUsers(users);
        if (unknownUsers.Count > 0)
            c.Problem("allowed-worker-users", $"unknown users {string.Join(", ", unknownUsers.Select(u => $"\"{u}\""))}; expected user names or numeric uids");
        var settings = new RouterSettings
        {
            Port = c.Int("port", 0, 65535),
            ListenAddress = c.IPAddress("listen-address"),
            ListenBacklog = c.PositiveInt("listen-backlog"),
            TcpMaxSegmentSize = c.Bytes("tcp-max-segment-size", 0, 65535),
            DeferAccept = c.Duration("defer-accept", allowZero: true),
            MaxPendingAccepts = c.PositiveInt("max-pending-accepts"),
            MaxPendingConnections = c.PositiveInt("max-pending-connections"),
            MaxHeldConnections = c.PositiveInt("max-held-connections"),
            MaxRelayedConnections = c.PositiveInt("max-relayed-connections"),
            ReceiveTimeout = c.Duration("receive-timeout"),
            PreambleWait = c.Duration("preamble-wait", allowZero: true),
            MaxViaSize = c.Int("max-via-size", 16),
            MaxContentTypeSize = c.PositiveInt("max-content-type-size"),
            HandoverMode = c.Enum<HandoverMode>("handover-mode"),
            FaultDrainLimit = c.Bytes("fault-drain-limit"),
            FaultTimeout = c.Duration("fault-timeout"),
            MaxDrainingConnections = c.PositiveInt("max-draining-connections"),
            HandoverTimeout = c.Duration("handover-timeout"),
            HandoverQueueLimit = c.PositiveInt("handover-queue-limit"),
            HandoverSendBuffer = c.Bytes("handover-send-buffer"),
            HandoverChannelWait = c.Duration("handover-channel-wait", allowZero: true),
            RelayBufferSize = c.Bytes("relay-buffer-size", 1024),
            RelayEngine = c.Enum<RelayEngine>("relay-engine"),
            SharedAddressBalancing = c.OneOf("shared-address-balancing", "least-connections", "round-robin") == "round-robin"
                ? SharedAddressBalancing.RoundRobin : SharedAddressBalancing.LeastConnections,
            RelayThreads = c.Int("relay-threads", 1, 64),
            RelayConnectTimeout = c.Duration("relay-connect-timeout"),
            AllowedWorkerUsers = users,
            AllowedWorkerUserIds = userIds,
            RegistrationSecret = new SharedSecret(c.String("registration-secret")),
            AdmissionTimeout = c.Duration("admission-timeout"),
            MaxConcurrentAdmissions = c.PositiveInt("max-concurrent-admissions"),
            RestartGrace = c.Duration("restart-grace", allowZero: true),
            DrainTimeout = c.Duration("drain-timeout"),
            ControlSocket = c.String("control-socket").Trim(),
            ControlMaxClients = c.PositiveInt("control-max-clients"),
            ControlBacklog = c.PositiveInt("control-backlog"),
            ControlCommandTimeout = c.Duration("control-command-timeout"),
            ControlReplyTimeout = c.Duration("control-reply-timeout"),
            HealthCheckTimeout = c.Duration("health-check-timeout"),
            ControlStartTimeout = c.Duration("control-start-timeout"),
            StopAcceptingTimeout = c.Duration("stop-accepting-timeout"),
            HeldPollInterval = c.Duration("held-poll-interval"),
            TakeoverReplyTimeout = c.Duration("takeover-reply-timeout"),
            TakeoverExitTimeout = c.Duration("takeover-exit-timeout"),
        };
        if (settings.MaxHeldConnections <= settings.MaxPendingConnections)
            c.Problem("max-held-connections", $"{settings.MaxHeldConnections} must exceed max-pending-connections ({settings.MaxPendingConnections})");
        c.ThrowIfInvalid();
        return settings;
    }

    // Empty list: this process's own user and root. Names go through the system's user database once, at start.
    private static (IReadOnlySet<uint> Ids, IReadOnlyList<string> Unknown) ResolveUsers(IReadOnlyList<string> users)
    {
        if (!UnixHandover.IsSupported) return (new HashSet<uint>(), []);
        var ids = UnixUsers.ResolveAll(users, out var unknown);
        return (ids, unknown);
    }
}
