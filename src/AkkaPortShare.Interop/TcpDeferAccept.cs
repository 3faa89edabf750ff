using System.Net.Sockets;

namespace AkkaPortShare.Interop;

/// <summary>
/// Lets the kernel complete a connection on a listener only once its first bytes have arrived (Linux
/// TCP_DEFER_ACCEPT), so an accept usually returns a socket whose preamble is already there.
/// </summary>
/// <remarks>
/// Why: a net.tcp client always speaks first, and the accept otherwise wakes the router on the handshake's last ACK,
/// microseconds before the preamble: the router then wakes a second time for the bytes. With the option the one
/// wake-up brings both, and the accept loop hands the connection over at once. A client that connects and sends
/// nothing stays in the kernel's queue of half-open connections (bounded by the SYN backlog, and by SYN cookies past
/// it) instead of the router's pending connections, and is accepted once the deferral ends (the kernel then retransmits
/// its SYN-ACK and takes the client's next ACK), after which receive-timeout applies as to any connection.
/// </remarks>
internal static class TcpDeferAccept
{
    private const int IpProtoTcp = 6;
    private const int TcpDeferAcceptOption = 9;

    /// <summary>Sets the deferral (rounded up to whole seconds; zero turns it off). A no-op off Linux.</summary>
    public static void Set(Socket listener, TimeSpan deferral)
    {
        if (!OperatingSystem.IsLinux()) return;
        var seconds = deferral <= TimeSpan.Zero ? 0 : (int)Math.Ceiling(Math.Min(deferral.TotalSeconds, int.MaxValue));
        listener.SetRawSocketOption(IpProtoTcp, TcpDeferAcceptOption, BitConverter.GetBytes(seconds));
    }
}
