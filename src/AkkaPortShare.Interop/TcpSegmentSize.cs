using System.Net.Sockets;

namespace AkkaPortShare.Interop;

/// <summary>
/// Caps the TCP maximum segment size of connections accepted on a listener (Linux TCP_MAXSEG, inherited by
/// accepted sockets, and so by sockets passed on to workers).
/// </summary>
/// <remarks>
/// Why: the WCF client shrinks its socket buffers to 16 KB after connecting. On loopback (64 KB MTU) the
/// server's segment size is then larger than the client's whole receive window, and Linux's sender-side
/// silly-window avoidance holds the data back until the 200 ms persist timer fires: a 1 MB reply took 13 s.
/// With segments of 8 KB it takes about a quarter of a second.
/// </remarks>
internal static class TcpSegmentSize
{
    private const int IpProtoTcp = 6;
    private const int TcpMaxSeg = 2;

    /// <summary>Sets the cap before Listen; 0 leaves the kernel's choice. A no-op off Linux.</summary>
    public static void Cap(Socket listener, int maxSegmentSize)
    {
        if (maxSegmentSize <= 0 || !OperatingSystem.IsLinux()) return;
        listener.SetRawSocketOption(IpProtoTcp, TcpMaxSeg, BitConverter.GetBytes(maxSegmentSize));
    }
}
