using System.Runtime.Serialization;
using Akka.Configuration;
using Akka.Serialization;
using AkkaPortShare.Contracts.Registration;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.Router.Tests.Remoting;

/// <summary>The registry protocol's wire form: every message round-trips through Akka's own lookup, and bad input is refused.</summary>
public sealed class RegistryProtocolSerializerSpec() : Akka.TestKit.Xunit2.TestKit(
    ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(RegistryProtocolConfig.Default()),
    "RegistryProtocolSerializerSpec")
{
    private static readonly WorkerEndpoint Endpoint = new(4242, "host-é", "/run/aps/worker.sock", "127.0.0.1", 8808);

    public static TheoryData<object> Messages() =>
    [
        new Register("net.tcp://+:8808/echo/", Endpoint, "secret", "token"),
        new Register("net.tcp://+:8808/echo/", Endpoint with { HandoverPath = null }),
        new Register("net.tcp://+:8808/echo/", Endpoint, "secret", "token", Shared: true),
        new ConnectionLoad(17, "secret", "token"),
        new ConnectionLoad(0),
        new FindSessionHolder(7, "net.tcp://+:8808/echo/", "00a1b2c3d4e5f6", "secret", "token"),
        new FindSessionHolder(long.MaxValue, "net.tcp://+:8808/echo/", "00a1b2c3d4e5f6"),
        new SessionHolder(7, "10.0.0.8", 40123),
        new SessionHolder(8, null, 0),
        new Unregister("net.tcp://+:8808/echo/", "secret", "token"),
        new Unregister("net.tcp://+:8808/echo/"),
        new Registered("net.tcp://+:8808/echo/", "fd"),
        new AdmissionStarted("net.tcp://+:8808/echo/", 17, 0),
        new Unregistered("net.tcp://+:8808/echo/"),
        new RegistrationRefused("net.tcp://+:8808/echo/", RefusalReason.NotListening, "Not listening on 9999"),
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Every_message_round_trips_through_its_own_serializer_and_manifest(object message)
    {
        var serialization = Sys.Serialization;
        var serializer = serialization.FindSerializerFor(message);
        Assert.Equal(RegistryProtocolSerializer.SerializerId, serializer.Identifier);

        var bytes = serializer.ToBinary(message);
        var manifest = Serialization.ManifestFor(serializer, message);
        var back = serialization.Deserialize(bytes, serializer.Identifier, manifest);

        Assert.Equal(message, back);
        Assert.Contains(manifest, RegistryProtocolSerializer.Manifests);
        Assert.True(bytes.Length < 200, $"{bytes.Length} bytes is not compact");
    }

    /// <summary>
    /// Every message type of the registry protocol (the only messages that cross Akka.Remote), found by reflection:
    /// a type added to the protocol without a binding to this serializer, or without a sample in
    /// <see cref="Messages"/> (so without the round trip above), fails here.
    /// </summary>
    [Fact]
    public void Every_protocol_message_type_is_bound_to_this_serializer_and_has_a_round_trip_sample()
    {
        var protocolTypes = typeof(RegistryProtocol).GetNestedTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false })
            .OrderBy(t => t.Name)
            .ToList();
        Assert.NotEmpty(protocolTypes);

        var unbound = protocolTypes
            .Where(t => Sys.Serialization.FindSerializerForType(t).Identifier != RegistryProtocolSerializer.SerializerId)
            .Select(t => $"{t.Name} (serialized by {Sys.Serialization.FindSerializerForType(t).GetType().Name})");
        Assert.Empty(unbound);

        var samples = Messages().Cast<object[]>().Select(row => row[0]).ToList();
        var sampled = samples.Select(m => m.GetType()).ToHashSet();
        Assert.Empty(protocolTypes.Where(t => !sampled.Contains(t)).Select(t => t.Name));

        // Each type's manifest is a distinct one of the serializer's.
        var manifests = protocolTypes
            .Select(t => samples.First(m => m.GetType() == t))
            .Select(m => Serialization.ManifestFor(Sys.Serialization.FindSerializerFor(m), m))
            .ToList();
        Assert.Equal(manifests.Count, manifests.Distinct().Count());
        Assert.Equal(RegistryProtocolSerializer.Manifests.OrderBy(m => m), manifests.OrderBy(m => m));
    }

    [Fact]
    public void Oversized_truncated_padded_and_unknown_input_is_refused()
    {
        var serializer = new RegistryProtocolSerializer((Akka.Actor.ExtendedActorSystem)Sys);
        var big = new string('a', RegistryProtocolSerializer.MaxStringBytes + 1);
        Assert.Throws<SerializationException>(() => serializer.ToBinary(new Unregistered(big)));

        var good = serializer.ToBinary(new Unregistered("net.tcp://+:8808/x/"));
        Assert.Throws<SerializationException>(() => serializer.FromBinary(good[..^1], "UD"));
        Assert.Throws<SerializationException>(() => serializer.FromBinary([.. good, 0], "UD"));
        Assert.Throws<SerializationException>(() => serializer.FromBinary(good, "Kill"));
        // A length prefix that claims more than the limit is refused before anything is allocated.
        byte[] claimsTooMuch = [1, .. BitConverter.GetBytes(int.MaxValue)];
        Assert.Throws<SerializationException>(() => serializer.FromBinary(claimsTooMuch, "UD"));
        // A refusal reason the protocol does not define.
        var refused = serializer.ToBinary(new RegistrationRefused("a", RefusalReason.NotOwner, "m"));
        BitConverter.GetBytes(999).CopyTo(refused, 1 + 4 + 1);
        Assert.Throws<SerializationException>(() => serializer.FromBinary(refused, "RF"));
    }

    [Fact]
    public void A_Register_from_a_worker_that_does_not_share_reads_as_before_and_a_bad_flag_or_count_is_refused()
    {
        var serializer = new RegistryProtocolSerializer((Akka.Actor.ExtendedActorSystem)Sys);
        var plain = new Register("net.tcp://+:8808/echo/", Endpoint, "secret", "token");
        var shared = plain with { Shared = true };

        // Not sharing writes exactly what a worker from before sharing writes: the flag is a trailing byte.
        Assert.Equal(serializer.ToBinary(plain).Length + 1, serializer.ToBinary(shared).Length);
        Assert.False(((Register)serializer.FromBinary(serializer.ToBinary(plain), "R")).Shared);
        Assert.Throws<SerializationException>(() => serializer.FromBinary([.. serializer.ToBinary(plain), 2], "R"));
        Assert.Throws<SerializationException>(() => serializer.FromBinary([.. serializer.ToBinary(shared), 1], "R"));

        var load = serializer.ToBinary(new ConnectionLoad(3));
        BitConverter.GetBytes(-1).CopyTo(load, 1);
        Assert.Throws<SerializationException>(() => serializer.FromBinary(load, "CL"));
    }
}
