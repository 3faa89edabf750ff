using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace AkkaPortShare.Fuzz.Remote;

/// <summary>A JSON payload written as it is, naming a type the attacker does not have (e.g. the router's GetRegistrations).</summary>
public sealed record ForgedJson(string Json);

/// <summary>
/// The attacker's stand-in for Akka's JSON serializer (id 1): writes <see cref="ForgedJson"/> verbatim, so any
/// <c>$type</c> can be put on the wire, and records every JSON message that comes back (the router should send none).
/// </summary>
public sealed class JsonForgery : Serializer
{
    private readonly NewtonSoftJsonSerializer _json;

    /// <summary>JSON messages received from the network, as text.</summary>
    public static readonly System.Collections.Concurrent.ConcurrentQueue<string> Received = new();

    public JsonForgery(ExtendedActorSystem system) : base(system) => _json = new NewtonSoftJsonSerializer(system);

    public JsonForgery(ExtendedActorSystem system, Config config) : base(system) => _json = new NewtonSoftJsonSerializer(system, config);

    public override int Identifier => _json.Identifier;

    public override bool IncludeManifest => _json.IncludeManifest;

    public override byte[] ToBinary(object obj) => obj is ForgedJson f ? Encoding.UTF8.GetBytes(f.Json) : _json.ToBinary(obj);

    public override object FromBinary(byte[] bytes, Type? type)
    {
        Received.Enqueue(Encoding.UTF8.GetString(bytes));
        return "(JSON from the network)";
    }
}
