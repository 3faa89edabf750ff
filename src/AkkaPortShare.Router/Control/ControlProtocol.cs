using System.Text.Json;
using AkkaPortShare.Router.Diagnostics;

namespace AkkaPortShare.Router.Control;

/// <summary>
/// What the control socket speaks: the client sends one command (a short ASCII word in one SOCK_SEQPACKET message);
/// the router answers with a JSON document (split over as many messages as it needs) and closes. Errors come as
/// <see cref="ControlError"/>.
/// </summary>
internal static class ControlProtocol
{
    public const string Status = "status";

    /// <summary>Ask for the listening socket: it comes in the answer (SCM_RIGHTS) with a <see cref="ListenerHandedOver"/>,
    /// and the router then stops accepting, routes what it accepted and exits.</summary>
    public const string TakeListener = "take-listener";

    internal const int MaxCommandBytes = 64;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };
}

internal sealed record ControlError(string Error);

internal sealed record ListenerHandedOver(int ProcessId, string ListenEndPoint);

/// <summary>A running router as `akkaportshare status` shows it.</summary>
internal sealed record RouterStatusReport(
    int ProcessId,
    uint? UserId,
    string Version,
    DateTimeOffset StartedAt,
    string ListenEndPoint,
    bool Accepting,
    int PendingConnections,
    IReadOnlyList<RouterProtocol.RegisteredAddress> Registrations,
    RouterCounters Counters,
    IReadOnlyDictionary<string, string> Health);
