using Akka.Actor;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Interop;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Router.Handover;

namespace AkkaPortShare.Router.Registration;

/// <summary>An admitted worker. Reference identity: it is the owner in the address table.</summary>
internal sealed class RegisteredWorker(WorkerEndpoint endpoint, IActorRef replyTo, IActorRef? gateway, bool passSockets,
    SharedSecret? channelToken, uint? userId)
{
    public WorkerEndpoint Endpoint { get; } = endpoint;

    /// <summary>Where answers go: the sender of the last command that proved to be this worker's.</summary>
    public IActorRef ReplyTo { get; set; } = replyTo;

    /// <summary>The worker's hand-over channel, kept for liveness (and the token) even when sockets are relayed.</summary>
    public IActorRef? Gateway { get; } = gateway;

    public bool PassSockets { get; } = passSockets;

    /// <summary>The accept thread's way past the gateway's mailbox (null when the worker has no channel).</summary>
    public HandoverLane? Lane { get; init; }

    /// <summary>Sent through the hand-over socket; null for a worker without one (known by its actor reference).</summary>
    public SharedSecret? ChannelToken { get; } = channelToken;

    public string HandoverMode => PassSockets ? "fd" : "relay";

    /// <summary>
    /// What the identifiers of the reliable sessions it holds carry (null: no hand-over socket, so no key). Another
    /// router's worker has no path here: its key comes with its registration (see ClusterRegistryActor.Entry).
    /// </summary>
    public SessionRouteKey? SessionKey { get; init; } = endpoint.HandoverPath is { } path ? SessionRouteKey.ForWorker(path) : null;

    /// <summary>Its connections as the router estimates them, for spreading a shared address's connections.</summary>
    public WorkerLoad Load { get; } = new();

    /// <summary>The user its hand-over socket belongs to (SO_PEERCRED); null for a worker admitted by secret.</summary>
    public uint? UserId { get; } = userId;

    /// <summary>"pid 4242 (user 1000 (app))", for log lines and refusals.</summary>
    public string Describe() =>
        $"pid {Endpoint.ProcessId}" + (UserId is { } uid ? $" (user {UnixUsers.Describe(uid)})" : " (user not checked)");
}
