using System.Globalization;
using System.Net;
using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Interop;
using AkkaPortShare.Registration;

namespace AkkaPortShare.Router.Configuration;

public enum HandoverMode { Auto, Fd, Relay }

/// <summary>The router's settings, read from <c>akka-port-share.router</c>. Defaults live in reference.conf only.</summary>
public sealed record RouterSettings
{
    public const string ConfigPath = "akka-port-share.router";

    public required int Port { get; init; }
    public required IPAddress ListenAddress { get; init; }
    public required int ListenBacklog { get; init; }
    public required int TcpMaxSegmentSize { get; init; }
    public required int MaxPendingAccepts { get; init; }
    public required int MaxPendingConnections { get; init; }
    public required int MaxHeldConnections { get; init; }
    public required int MaxRelayedConnections { get; init; }
    public required TimeSpan ReceiveTimeout { get; init; }
    public required int MaxViaSize { get; init; }
    public required int MaxContentTypeSize { get; init; }
    public required HandoverMode HandoverMode { get; init; }
    public required int FaultDrainLimit { get; init; }
    public required TimeSpan FaultTimeout { get; init; }
    public required int MaxDrainingConnections { get; init; }
    public required TimeSpan HandoverTimeout { get; init; }
    public required int HandoverQueueLimit { get; init; }
    public required int HandoverSendBuffer { get; init; }
    public required int RelayBufferSize { get; init; }

    /// <summary>allowed-worker-users as configured (names or uids); empty means the router's own user and root.</summary>
    public required IReadOnlyList<string> AllowedWorkerUsers { get; init; }

    /// <summary>The uids <see cref="AllowedWorkerUsers"/> stands for, names resolved (empty on systems without uids).</summary>
    public required IReadOnlySet<uint> AllowedWorkerUserIds { get; init; }

    public required SharedSecret RegistrationSecret { get; init; }
    public required TimeSpan AdmissionTimeout { get; init; }
    public required int MaxConcurrentAdmissions { get; init; }

    private RouterSettings() { }

    public static Config DefaultConfig() =>
        ConfigurationFactory.FromResource<RouterSettings>("AkkaPortShare.Router.reference.conf");

    public static RouterSettings Create(ActorSystem system) => Create(system.Settings.Config);

    public static RouterSettings Create(Config root)
    {
        var c = root.WithFallback(DefaultConfig()).GetConfig(ConfigPath);
        var users = c.GetStringList("allowed-worker-users").Select(u => u.Trim()).ToList();
        var (userIds, unknownUsers) = ResolveUsers(users);
        var settings = new RouterSettings
        {
            Port = c.GetInt("port"),
            ListenAddress = IPAddress.Parse(c.GetString("listen-address")),
            ListenBacklog = c.GetInt("listen-backlog"),
            TcpMaxSegmentSize = (int)c.GetByteSize("tcp-max-segment-size")!.Value,
            MaxPendingAccepts = c.GetInt("max-pending-accepts"),
            MaxPendingConnections = c.GetInt("max-pending-connections"),
            MaxHeldConnections = c.GetInt("max-held-connections"),
            MaxRelayedConnections = c.GetInt("max-relayed-connections"),
            ReceiveTimeout = c.GetTimeSpan("receive-timeout"),
            MaxViaSize = c.GetInt("max-via-size"),
            MaxContentTypeSize = c.GetInt("max-content-type-size"),
            HandoverMode = Enum.Parse<HandoverMode>(c.GetString("handover-mode"), ignoreCase: true),
            FaultDrainLimit = (int)c.GetByteSize("fault-drain-limit")!.Value,
            FaultTimeout = c.GetTimeSpan("fault-timeout"),
            MaxDrainingConnections = c.GetInt("max-draining-connections"),
            HandoverTimeout = c.GetTimeSpan("handover-timeout"),
            HandoverQueueLimit = c.GetInt("handover-queue-limit"),
            HandoverSendBuffer = (int)c.GetByteSize("handover-send-buffer")!.Value,
            RelayBufferSize = (int)c.GetByteSize("relay-buffer-size")!.Value,
            AllowedWorkerUsers = users,
            AllowedWorkerUserIds = userIds,
            RegistrationSecret = new SharedSecret(c.GetString("registration-secret") ?? ""),
            AdmissionTimeout = c.GetTimeSpan("admission-timeout"),
            MaxConcurrentAdmissions = c.GetInt("max-concurrent-admissions"),
        };
        settings.Validate(unknownUsers);
        return settings;
    }

    // Empty list: this process's own user and root. Names go through the system's user database once, at start.
    private static (IReadOnlySet<uint> Ids, List<string> Unknown) ResolveUsers(IReadOnlyList<string> users)
    {
        var ids = new HashSet<uint>();
        var unknown = new List<string>();
        if (!UnixHandover.IsSupported) return (ids, unknown);
        if (users.Count == 0)
        {
            ids.Add(UnixHandover.CurrentUserId);
            ids.Add(0);
        }
        foreach (var user in users)
        {
            if (uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var uid)) ids.Add(uid);
            else if (user.Length > 0 && UnixUsers.TryGetUserId(user, out uid)) ids.Add(uid);
            else unknown.Add(user);
        }
        return (ids, unknown);
    }

    private void Validate(IReadOnlyList<string> unknownUsers)
    {
        var errors = new List<string>();
        if (unknownUsers.Count > 0)
            errors.Add($"allowed-worker-users names unknown users: {string.Join(", ", unknownUsers.Select(u => $"\"{u}\""))}");
        if (Port is < 0 or > 65535) errors.Add($"port must be 0-65535, not {Port}");
        if (ListenBacklog < 1) errors.Add("listen-backlog must be at least 1");
        if (MaxPendingAccepts < 1) errors.Add("max-pending-accepts must be at least 1");
        if (MaxPendingConnections < 1) errors.Add("max-pending-connections must be at least 1");
        if (MaxHeldConnections <= MaxPendingConnections)
            errors.Add($"max-held-connections ({MaxHeldConnections}) must exceed max-pending-connections ({MaxPendingConnections})");
        if (MaxRelayedConnections < 1) errors.Add("max-relayed-connections must be at least 1");
        if (AdmissionTimeout <= TimeSpan.Zero) errors.Add("admission-timeout must be positive");
        if (MaxConcurrentAdmissions < 1) errors.Add("max-concurrent-admissions must be at least 1");
        if (HandoverTimeout <= TimeSpan.Zero) errors.Add("handover-timeout must be positive");
        if (HandoverQueueLimit < 1) errors.Add("handover-queue-limit must be at least 1");
        if (HandoverSendBuffer < 0) errors.Add("handover-send-buffer must be 0 (the kernel's default) or positive");
        if (MaxDrainingConnections < 1) errors.Add("max-draining-connections must be at least 1");
        if (ReceiveTimeout <= TimeSpan.Zero) errors.Add("receive-timeout must be positive");
        if (MaxViaSize < 16) errors.Add("max-via-size must be at least 16");
        if (RelayBufferSize < 1024) errors.Add("relay-buffer-size must be at least 1k");
        if (errors.Count > 0)
            throw new ConfigurationException($"Invalid {ConfigPath}: {string.Join("; ", errors)}");
    }
}
