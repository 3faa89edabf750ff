using System.Net;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Actor.Internal;
using Akka.Event;
using AkkaPortShare.Contracts.Registration;

namespace AkkaPortShare.Router.Remoting;

/// <summary>
/// Logs what the router refused from the network: a Warning line naming the remote system and what it sent, once
/// per kind of message (what and manifest) per <see cref="Window"/>, and at most <see cref="LinesPerWindow"/> lines
/// per window in all, so a flood cannot flood the log (the first line of the next window says how many were left out).
/// </summary>
internal sealed class InboundRefusals : IExtension
{
    // Not settings: they only throttle log lines about traffic that is refused whatever they are.
    public const int LinesPerWindow = 20;
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly ILoggingAdapter _log;
    private readonly Lock _gate = new();
    private DateTime _windowStart = DateTime.MinValue;
    private readonly HashSet<(string, string)> _loggedInWindow = [];
    private long _unlogged;
    private long _count;

    public InboundRefusals(ExtendedActorSystem system) => _log = Logging.GetLogger(system, "AkkaPortShare.Router.Remoting");

    public static InboundRefusals Get(ActorSystem system) => system.WithExtension<InboundRefusals, InboundRefusalsProvider>();

    /// <summary>Total refusals since the router started (tests read it).</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Logs the refusal (within the rate limit) and returns the exception that makes Akka.Remote drop it.</summary>
    public SerializationException Refuse(string what, string serializer, int serializerId, string manifest)
    {
        Interlocked.Increment(ref _count);
        var printable = RegistryProtocolSerializer.Printable(manifest);
        var remote = CurrentRemoteAddress();
        bool logIt;
        long leftOut = 0;
        lock (_gate)
        {
            var now = DateTime.UtcNow;
            if (now - _windowStart >= Window)
            {
                leftOut = _unlogged;
                _windowStart = now;
                _loggedInWindow.Clear();
                _unlogged = 0;
            }
            logIt = _loggedInWindow.Count < LinesPerWindow && _loggedInWindow.Add((what, printable));
            if (!logIt) _unlogged++;
        }
        if (logIt)
            _log.Warning("Refused {0} [{1}] from {2} over Akka.Remote (serializer {3}, id {4}); only the registry " +
                "protocol is accepted from the network{5}", what, printable, remote, serializer, serializerId,
                leftOut > 0 ? $" ({leftOut} further refusals in the previous {Window.TotalSeconds:0} s were not logged)" : "");
        return new SerializationException(
            $"AkkaPortShare refuses {what} [{printable}] from the network (serializer {serializerId})");
    }

    // Akka.Remote deserializes inbound messages in the association's reader actor, named
    // "endpointReader-<url-encoded remote address>-<n>": the address the remote system gave in its handshake.
    private static string CurrentRemoteAddress()
    {
        var name = InternalCurrentActorCellKeeper.Current?.Self.Path.Name ?? "";
        const string prefix = "endpointReader-";
        var end = name.LastIndexOf('-');
        return name.StartsWith(prefix, StringComparison.Ordinal) && end > prefix.Length
            ? WebUtility.UrlDecode(name[prefix.Length..end])
            : "(unknown remote system)";
    }
}

internal sealed class InboundRefusalsProvider : ExtensionIdProvider<InboundRefusals>
{
    public override InboundRefusals CreateExtension(ExtendedActorSystem system) => new(system);
}
