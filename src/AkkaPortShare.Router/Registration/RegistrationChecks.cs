using System.Net.Sockets;
using System.Text;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Router.Configuration;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.Router.Registration;

/// <summary>A registration the registry refuses, and why (sent back as RegistrationRefused).</summary>
internal sealed record Refusal(RefusalReason Reason, string Message);

/// <summary>
/// The registry's decisions that need no state: what a Register must be before anyone asks who sent it, and whether
/// a worker without a usable hand-over socket may be admitted. Pure functions, so each rule has its own unit test.
/// </summary>
internal static class RegistrationChecks
{
    // The Windows service's limit on a registered address, which workers see as PathTooLong: part of the
    // registration protocol they rely on, not a tunable. It also bounds the untrusted input before it is parsed.
    public const int MaxAddressBytes = 2048;

    /// <summary>
    /// A Register's shape, secret, length, syntax and port, in that order (a malformed one arrives over the network
    /// and is refused, never a reason to fail): null and the parsed address, or the refusal.
    /// </summary>
    public static Refusal? Check(Register register, SharedSecret secret, ListenEndPoint listening, out BaseAddress? address)
    {
        address = null;
        var requested = register.BaseAddress;
        if (requested is null || register.Worker is null)
            return new(RefusalReason.InvalidAddress, "A registration needs a base address and a worker endpoint.");
        if (!secret.Matches(register.Secret))
            return new(RefusalReason.NotAuthorized, register.Secret is null
                ? "The router requires registration-secret and this registration carries none."
                : "The registration carries a wrong registration-secret.");
        if (Encoding.UTF8.GetByteCount(requested) > MaxAddressBytes)
            return new(RefusalReason.PathTooLong, $"The address is longer than {MaxAddressBytes} bytes.");
        if (!BaseAddress.TryParse(requested, out var parsed, out var error))
            return new(RefusalReason.InvalidAddress, error!);
        if (listening.Refusal(parsed!) is { } notListening)
            return new(RefusalReason.NotListening, notListening);
        address = parsed;
        return null;
    }

    /// <summary>
    /// The hand-over socket a registrant offers, as an endpoint the registry can check; null (and why, for the log
    /// and a refusal) when it offers none, offers one no Unix socket address can hold, or this OS passes no sockets.
    /// </summary>
    public static UnixDomainSocketEndPoint? ChannelEndPoint(string? path, bool socketsPassable, out string problem)
    {
        problem = "it offers no hand-over socket";
        if (!socketsPassable || path is null) return null;
        try
        {
            ArgumentException.ThrowIfNullOrEmpty(path);
            return new UnixDomainSocketEndPoint(path);
        }
        catch (ArgumentException e)
        {
            // An empty path, or one longer than a Unix socket address holds (107 bytes).
            problem = $"its hand-over socket path is not usable ({e.Message})";
            return null;
        }
    }

    /// <summary>
    /// A worker whose user cannot be checked (no usable hand-over socket): refused under handover-mode fd, and
    /// without registration-secret; otherwise null, and it is admitted to be relayed (its secret was checked already).
    /// </summary>
    public static Refusal? WithoutChannel(HandoverMode mode, bool secretIsSet, int processId, string channelProblem)
    {
        if (mode == HandoverMode.Fd)
            return new(RefusalReason.HandoverUnavailable, $"handover-mode is fd but {channelProblem}.");
        if (!secretIsSet)
            return new(RefusalReason.NotAuthorized,
                $"The user of worker pid {processId} cannot be checked: {channelProblem}. Such workers need " +
                "registration-secret, and this router has none configured.");
        return null;
    }
}
