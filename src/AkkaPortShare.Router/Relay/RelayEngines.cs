using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Interop.Relay;
using AkkaPortShare.Router.Configuration;

namespace AkkaPortShare.Router.Relay;

/// <summary>
/// The router's one splice relay engine (relay-engine = splice), shared by every relayed connection and stopped
/// with the actor system; null <see cref="Splice"/> means relayed connections copy (<see cref="SocketRelay"/>):
/// relay-engine = copy, or a kernel that cannot splice TCP sockets.
/// </summary>
internal sealed class RelayEngines : IExtension
{
    private RelayEngines(SpliceRelayEngine? splice) => Splice = splice;

    public SpliceRelayEngine? Splice { get; }

    // One per fault-drains actor (one per listener): every relay it starts shares it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<IActorRef, RelayHandoff> _handoffs = new();

    /// <summary>The hand-off to the splice engine whose failed connects go to <paramref name="drains"/>; null: copy.</summary>
    public RelayHandoff? Handoff(ActorSystem system, IActorRef drains) => Splice is { } engine
        ? _handoffs.GetOrAdd(drains, d => new RelayHandoff(engine, Connections.HeldConnections.Get(system), d,
            Logging.GetLogger(system, typeof(RelayHandoff))))
        : null;

    // The first caller's settings decide: every connection actor of a system is given the same RouterSettings.
    public static RelayEngines Get(ActorSystem system, RouterSettings settings) =>
        system.GetExtension<RelayEngines>() ?? (RelayEngines)system.RegisterExtension(new Provider(settings));

    private sealed class Provider(RouterSettings settings) : ExtensionIdProvider<RelayEngines>
    {
        public override RelayEngines CreateExtension(ExtendedActorSystem system)
        {
            if (settings.RelayEngine == RelayEngine.Copy) return new RelayEngines(null);
            if (!SpliceRelayEngine.IsSupported)
            {
                system.Log.Warning("relay-engine = splice is unavailable here ({0}): relayed connections are copied",
                    SpliceRelayEngine.UnsupportedReason);
                return new RelayEngines(null);
            }
            var engine = new SpliceRelayEngine(settings.RelayThreads, settings.RelayBufferSize, settings.RelayConnectTimeout);
            system.RegisterOnTermination(engine.Dispose);
            return new RelayEngines(engine);
        }
    }
}
