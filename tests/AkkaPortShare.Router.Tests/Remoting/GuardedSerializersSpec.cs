using System.Reflection;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch.SysMsg;
using Akka.Remote;
using Akka.Remote.Serialization;
using Akka.Serialization;
using Akka.TestKit;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Remoting;

namespace AkkaPortShare.Router.Tests.Remoting;

/// <summary>
/// The router's actor system as its reference.conf makes it: every serializer it registers is either harmless or
/// guarded, and the guards refuse what could stop, reconfigure or question a router actor.
/// </summary>
public sealed class GuardedSerializersSpec() : Akka.TestKit.Xunit2.TestKit(
    ConfigurationFactory.ParseString("""
        akka.remote.dot-netty.tcp.port = 0
        akka.loglevel = INFO
        """).WithFallback(RouterSettings.DefaultConfig()).WithFallback(RegistryProtocolConfig.Default()),
    "GuardedSerializersSpec")
{
    // null, bytes, akka-containers (selections; their content goes through the guards), primitive.
    private static readonly Dictionary<int, Type> Harmless = new()
    {
        [0] = typeof(NullSerializer), [4] = typeof(ByteArraySerializer), [6] = typeof(MessageContainerSerializer),
        [17] = typeof(PrimitiveSerializers), [RegistryProtocolSerializer.SerializerId] = typeof(RegistryProtocolSerializer),
    };

    private static readonly Dictionary<int, Type> Guarded = new()
    {
        [1] = typeof(RefusingJsonSerializer), [2] = typeof(RefusingProtobufSerializer),
        [3] = typeof(RefusingDaemonMsgCreateSerializer), [16] = typeof(HeartbeatOnlyMiscSerializer),
        [22] = typeof(RefusingSystemMessageSerializer),
    };

    private ExtendedActorSystem System => (ExtendedActorSystem)Sys;

    [Fact]
    public void Every_serializer_the_router_registers_is_decided_for()
    {
        var field = typeof(Serialization).GetField("_serializersById", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("Akka's Serialization no longer has _serializersById: list its serializers another way");
        var registered = ((IDictionary<int, Serializer>)field.GetValue(Sys.Serialization)!)
            .ToDictionary(kv => kv.Key, kv => kv.Value.GetType());

        // A serializer that appears here after an Akka upgrade (or a new package) needs a decision in GuardedSerializers.cs.
        Assert.Equal(Harmless.Concat(Guarded).OrderBy(kv => kv.Key), registered.OrderBy(kv => kv.Key));
        Assert.True(Sys.Settings.Config.GetBoolean("akka.remote.untrusted-mode"));
        Assert.Equal(["/user/port-share-registry"], Sys.Settings.Config.GetStringList("akka.remote.trusted-selection-paths"));
    }

    public static TheoryData<string, object> Refused() => new()
    {
        { "Kill", Kill.Instance },
        { "PoisonPill", PoisonPill.Instance },
        { "Identify", new Identify(1) },
        { "ActorIdentity", new ActorIdentity(1, null) },
        { "Status.Failure", new Status.Failure(new Exception("x")) },
        { "RemoteScope", new RemoteScope(new Address("akka.tcp", "x", "127.0.0.1", 1)) },
        { "Config", ConfigurationFactory.ParseString("a = 1") },
        { "Heartbeat", RemoteWatcher.Heartbeat.Instance },
        { "Watch", "watch" },
        { "Terminate", new Terminate() },
        { "Suspend", new Suspend() },
        { "Recreate", new Recreate(new Exception("x")) },
        { "DeathWatchNotification", "dwn" },
        { "GetRegistrations", RouterProtocol.GetRegistrations.Instance },
        { "a JSON-typed record", new RouterProtocol.RegisteredAddress("net.tcp://+:1/x/", 1, "fd") },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void The_guards_refuse_what_could_stop_reconfigure_or_question_a_router_actor(string name, object message)
    {
        message = message switch
        {
            "watch" => new Watch((IInternalActorRef)TestActor, (IInternalActorRef)TestActor),
            "dwn" => new DeathWatchNotification(TestActor, true, false),
            _ => message,
        };
        // What a foreign system would put on the wire: Akka's own serializer for the message, under its identifier.
        var guard = Sys.Serialization.FindSerializerFor(message);
        Assert.IsAssignableFrom<InboundGuardSerializer>(guard);
        var bytes = guard.ToBinary(message);
        var manifest = Serialization.ManifestFor(guard, message);

        var refusals = InboundRefusals.Get(Sys).Count;
        EventFilter.Warning(contains: "Refused").ExpectOne(() =>
            Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize(bytes, guard.Identifier, manifest)));
        Assert.Equal(refusals + 1, InboundRefusals.Get(Sys).Count);
        _ = name;
    }

    [Fact]
    public void The_remote_watchers_heartbeat_answer_is_let_in_and_outbound_messages_are_written_as_Akka_writes_them()
    {
        var stock = new MiscMessageSerializer(System);
        var response = new RemoteWatcher.HeartbeatRsp(42);
        Assert.Equal(HeartbeatOnlyMiscSerializer.HeartbeatResponseManifest, stock.Manifest(response));

        var guard = Sys.Serialization.FindSerializerFor(response);
        Assert.Equal(stock.Identifier, guard.Identifier);
        Assert.Equal(stock.ToBinary(response), guard.ToBinary(response));
        var back = Sys.Serialization.Deserialize(guard.ToBinary(response), guard.Identifier, stock.Manifest(response));
        Assert.Equal(42, Assert.IsType<RemoteWatcher.HeartbeatRsp>(back).AddressUid);

        // Outbound system messages and JSON still leave as Akka writes them (workers read them with Akka's own).
        var watch = new Watch((IInternalActorRef)TestActor, (IInternalActorRef)TestActor);
        var systemGuard = Sys.Serialization.FindSerializerFor(watch);
        Assert.Equal(new SystemMessageSerializer(System).ToBinary(watch), systemGuard.ToBinary(watch));
    }

    [Fact]
    public void Refusal_lines_are_rate_limited_to_one_per_kind_and_a_bounded_number_per_window()
    {
        var guard = Sys.Serialization.FindSerializerFor(Kill.Instance);
        var kill = guard.ToBinary(Kill.Instance);
        EventFilter.Warning(contains: "Refused").Expect(InboundRefusals.LinesPerWindow, () =>
        {
            for (var i = 0; i < 100; i++)
                Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize(kill, 16, "K"));
            for (var i = 0; i < InboundRefusals.LinesPerWindow * 5; i++)
                Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize(kill, 16, $"X{i}"));
        });
    }
}
