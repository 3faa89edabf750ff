using System.Runtime.CompilerServices;
using Akka.Actor;
using AkkaPortShare.Protocol.Handover;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// This worker's <see cref="SessionRouteKey"/>, once its hand-over socket exists: the reliable sessions it creates carry
/// it in their identifiers, so that a connection of theirs that another worker of the address receives comes back
/// here (see <see cref="MoveSession"/>). A worker without a hand-over socket (relay only) has none and makes plain
/// random identifiers, as before.
/// </summary>
internal sealed class SessionRouting : IExtension
{
    private volatile StrongBox<SessionRouteKey>? _key;

    public static SessionRouting For(ActorSystem system) => system.WithExtension<SessionRouting, SessionRoutingProvider>();

    public SessionRouteKey? Key => _key?.Value;

    public void Set(SessionRouteKey key) => _key = new StrongBox<SessionRouteKey>(key);

    public string NewSequenceId() => _key is { } key ? key.Value.NewSequenceId() : $"urn:uuid:{Guid.NewGuid()}";

    /// <summary>The worker that holds <paramref name="sequenceId"/>'s session, when it is another one than this.</summary>
    public bool HeldElsewhere(string sequenceId, out SessionRouteKey holder) =>
        SessionRouteKey.TryReadFrom(sequenceId, out holder) && _key is { } own && own.Value != holder;
}

internal sealed class SessionRoutingProvider : ExtensionIdProvider<SessionRouting>
{
    public override SessionRouting CreateExtension(ExtendedActorSystem system) => new();
}

/// <summary>
/// To a connection (through its session's handler): the reliable session its messages belong to is held by the
/// worker <paramref name="Holder"/>; pass the connection there through the router, if it can still move.
/// </summary>
internal sealed record MoveSession(SessionRouteKey Holder);

/// <summary>
/// A connection to its worker (the WorkerActor): where is the worker of <paramref name="BaseAddress"/> that holds
/// <paramref name="Holder"/>'s sessions? The router is asked; answered with <see cref="SessionHolderLocated"/>.
/// </summary>
internal sealed record LocateSessionHolder(string BaseAddress, SessionRouteKey Holder);

/// <summary>That worker's data endpoint; <paramref name="DataHost"/> null: none, for <paramref name="Reason"/>.</summary>
internal sealed record SessionHolderLocated(string? DataHost, int DataPort, string? Reason = null);

/// <summary>
/// To a connection's handler after <see cref="MoveSession"/>: the connection could not move and stays here, read on
/// as any other. What the handler set aside meanwhile is gone; the client sends again what was not acknowledged.
/// </summary>
internal sealed class SessionStays
{
    public static readonly SessionStays Instance = new();
    private SessionStays() { }
}
