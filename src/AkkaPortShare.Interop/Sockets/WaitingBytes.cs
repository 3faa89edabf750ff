using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop.Sockets;

/// <summary>
/// Reads what already waits in a socket without waiting for more: one recv(MSG_DONTWAIT), on a blocking socket as on
/// a non-blocking one, where Available and Receive would be two system calls (this runs once per accepted
/// connection, on the accept thread).
/// </summary>
internal static unsafe class WaitingBytes
{
    /// <returns>The bytes read; 0 when none were waiting; -1 at the end of the stream, on an error or a disposed socket
    /// (whoever reads the socket next meets the same and closes).</returns>
    public static int Take(Socket socket, Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        bool added = false;
        try
        {
            socket.SafeHandle.DangerousAddRef(ref added);
            int fd = (int)socket.SafeHandle.DangerousGetHandle();
            fixed (byte* bytes = buffer)
            {
                while (true)
                {
                    nint read = LibC.recv(fd, bytes, (nuint)buffer.Length, LibC.MSG_DONTWAIT);
                    if (read > 0) return (int)read;
                    if (read == 0) return -1;
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.EINTR) continue;
                    return errno == LibC.EAGAIN ? 0 : -1;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
        finally
        {
            if (added) socket.SafeHandle.DangerousRelease();
        }
    }
}
