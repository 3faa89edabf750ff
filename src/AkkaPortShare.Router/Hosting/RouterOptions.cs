using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Router.Configuration;

namespace AkkaPortShare.Router.Hosting;

/// <summary>
/// Code-level overrides of <c>akka-port-share.router</c>; only what is set becomes HOCON, and it wins over the file.
/// </summary>
/// <remarks>
/// Typed properties cover what a program commonly sets; <see cref="Settings"/> sets any key of the block
/// (<c>router.Settings.Set("max-held-connections", 2000)</c>). Not a property per key on purpose: reference.conf
/// is the one list of keys, and properties copied from it would be a second list that drifts (a key added there and
/// forgotten here). A key given through <see cref="Settings"/> is checked like one in the operator's file (an unknown
/// one ends the start with exit 78 naming the nearest key), and RouterOptionsSpec sets every key of reference.conf
/// this way and reads it back.
/// </remarks>
public sealed class RouterOptions
{
    public int? Port { get; set; }
    public string? ListenAddress { get; set; }
    public HandoverMode? HandoverMode { get; set; }
    public TimeSpan? ReceiveTimeout { get; set; }
    public int? MaxPendingConnections { get; set; }

    /// <summary>Any key of <c>akka-port-share.router</c>, by its reference.conf name; it wins over a property.</summary>
    public HoconOverrides Settings { get; } = new(RouterSettings.ConfigPath);

    /// <summary>
    /// The shared port, already open (see <see cref="Hosting.SharedPort.Open"/>): the akkaportshare host opens it
    /// before starting anything so that a port it cannot have ends the process with one clear line. Null: the
    /// listener opens it itself. The caller owns it and disposes it after the actor system has stopped.
    /// </summary>
    public SharedPort? SharedPort { get; set; }

    internal string ToHocon()
    {
        var properties = new HoconOverrides(RouterSettings.ConfigPath);
        if (Port is { } port) properties.Set("port", port);
        if (ListenAddress is { } address) properties.Set("listen-address", address);
        if (HandoverMode is { } mode) properties.Set("handover-mode", mode);
        if (ReceiveTimeout is { } timeout) properties.Set("receive-timeout", timeout);
        if (MaxPendingConnections is { } pending) properties.Set("max-pending-connections", pending);
        // A later line wins in HOCON: a key set through Settings overrides the property.
        return properties.ToHocon() + Settings.ToHocon();
    }
}
