using Akka.Actor;
using Akka.Configuration;
using Akka.Remote.Serialization;
using Akka.Serialization;

namespace AkkaPortShare.Router.Remoting;

// The router's decision for each serializer its actor system registers (reference.conf puts these in place of
// Akka's under the same names, so they keep Akka's identifiers and bindings):
//   null (0), bytes (4), primitive (17): kept. They build only null, byte[], string, int and long, which the
//     router's actors leave unhandled.
//   akka-containers (6): kept. Workers register through an actor selection; the message inside is read by the
//     serializer of its own identifier (so by one of these guards), and untrusted mode drops selections to any
//     path but the registry's.
//   port-share-registry (8808): the registry protocol, read field by field, the only application messages let in.
//   json (1): refused. Akka's default for System.Object: Newtonsoft JSON with type names, so a peer could make the
//     router build any type it names (a deserialization gadget), and internal questions (Resolve, GetRegistrations,
//     GetListenerStatus) would be answerable. No message the router needs travels as JSON.
//   akka-system-msg (22): refused, every one. Watch, Unwatch, Suspend, Resume, Recreate, Failed and Terminate would
//     reach the actor as they are. The router needs none from the network: it learns that a worker is gone from its
//     hand-over channel (end of file), and for workers without one from its own remote watcher's heartbeats. Even
//     DeathWatchNotification stays out: anyone could forge it for a worker they do not own and unregister it.
//   akka-misc (16): only the remote watcher's HeartbeatRsp (answers to the router's heartbeats to workers it
//     watches). Refused: Kill, PoisonPill, Identify and ActorIdentity (the router asks nobody to identify), bare
//     actor references, Status (carries exceptions), scopes, router configs and Config.
//   proto (2), daemon-create (3): refused. Remote deployment (Props with type names) and arbitrary protobuf types.

/// <summary>Akka's JSON serializer (id 1): nothing is read from the network.</summary>
internal sealed class RefusingJsonSerializer : InboundGuardSerializer
{
    public RefusingJsonSerializer(ExtendedActorSystem system)
        : base(system, new NewtonSoftJsonSerializer(system), "JSON-typed message") { }

    public RefusingJsonSerializer(ExtendedActorSystem system, Config config)
        : base(system, new NewtonSoftJsonSerializer(system, config), "JSON-typed message") { }
}

/// <summary>Akka.Remote's system messages (id 22): none is read from the network.</summary>
internal sealed class RefusingSystemMessageSerializer(ExtendedActorSystem system)
    : InboundGuardSerializer(system, new SystemMessageSerializer(system), "system message");

/// <summary>Akka.Remote's miscellaneous messages (id 16): only the remote watcher's heartbeat answers.</summary>
internal sealed class HeartbeatOnlyMiscSerializer(ExtendedActorSystem system)
    : InboundGuardSerializer(system, new MiscMessageSerializer(system), "Akka message", HeartbeatResponseManifest)
{
    /// <summary>MiscMessageSerializer's manifest of RemoteWatcher.HeartbeatRsp (checked by a test).</summary>
    public const string HeartbeatResponseManifest = "RWHR";
}

/// <summary>Akka.Remote's protobuf serializer (id 2): nothing is read from the network.</summary>
internal sealed class RefusingProtobufSerializer(ExtendedActorSystem system)
    : InboundGuardSerializer(system, new ProtobufSerializer(system), "protobuf message");

/// <summary>Akka.Remote's remote-deployment serializer (id 3): nothing is read from the network.</summary>
internal sealed class RefusingDaemonMsgCreateSerializer(ExtendedActorSystem system)
    : InboundGuardSerializer(system, new DaemonMsgCreateSerializer(system), "remote deployment");
