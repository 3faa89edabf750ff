using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace AkkaPortShare.Router.Remoting;

/// <summary>
/// Stands in for one of Akka's serializers under its identifier, so that everything Akka.Remote receives for that
/// identifier passes here first. Outbound it is the serializer it wraps; inbound it reads only the manifests it was
/// given and refuses the rest before a byte of them is interpreted (no type is looked up by name, nothing is built).
/// </summary>
/// <remarks>
/// Akka.Remote's untrusted mode drops selections outside trusted-selection-paths and messages marked
/// <see cref="IPossiblyHarmful"/>, but only after deserializing them, and it lets <see cref="Kill"/>, Identify and
/// every system message except Terminate through to the actor (Watch, Unwatch, Suspend, Resume, Recreate, Failed,
/// DeathWatchNotification...). Refusing at the serializer closes both gaps for the whole actor system.
/// A refusal throws <see cref="SerializationException"/>: Akka.Remote logs it and drops the message (the sender's
/// association may be reset); the router's actors never see it.
/// </remarks>
internal abstract class InboundGuardSerializer : SerializerWithStringManifest
{
    private readonly ExtendedActorSystem _system;
    private readonly Serializer _inner;
    private readonly IReadOnlySet<string> _allowed;
    private readonly string _what;

    /// <param name="inner">The Akka serializer whose identifier and outbound side this keeps.</param>
    /// <param name="what">What the inner serializer carries, for the refusal line ("system message").</param>
    /// <param name="allowedManifests">The manifests read from the network; empty: none.</param>
    protected InboundGuardSerializer(ExtendedActorSystem system, Serializer inner, string what,
        params string[] allowedManifests) : base(system)
    {
        _system = system;
        _inner = inner;
        _what = what;
        _allowed = allowedManifests.ToHashSet(StringComparer.Ordinal);
    }

    public override int Identifier => _inner.Identifier;

    public override string Manifest(object o) => Akka.Serialization.Serialization.ManifestFor(_inner, o);

    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!_allowed.Contains(manifest))
            throw InboundRefusals.Get(_system).Refuse(_what, _inner.GetType().Name, Identifier, manifest);
        return _inner is SerializerWithStringManifest withManifest
            ? withManifest.FromBinary(bytes, manifest)
            : _inner.FromBinary(bytes, Type.GetType(manifest, throwOnError: true));
    }
}
