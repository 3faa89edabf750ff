using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace AkkaPortShare.Interop;

/// <summary>
/// Hands an accepted socket from one process to another over a Unix-domain SOCK_SEQPACKET
/// channel, using sendmsg/recvmsg with an SCM_RIGHTS control message (.NET has no public API
/// for this: Socket.DuplicateAndClose is Windows-only).
/// </summary>
/// <remarks>
/// <para>
/// SOCK_SEQPACKET keeps message boundaries, so every <see cref="Send"/> arrives as exactly one
/// <see cref="Receive"/>, together with its file descriptor. Payloads must not be empty, because a
/// zero-length read means end of stream.
/// </para>
/// <para>
/// Send and Receive work whatever the O_NONBLOCK state of the channel: they call the kernel with
/// MSG_DONTWAIT and wait in poll(2), so they never change the file status flags (which are shared
/// with every other copy of the descriptor) and can observe the cancellation token. They are
/// blocking calls; run them on a dedicated thread or via Task.Run. Concurrent calls are safe (each
/// message is sent and received atomically). Do not read the channel with .NET's own Receive: a
/// plain recv discards the descriptors that came with a message (the kernel closes them).
/// </para>
/// <para>
/// To unblock a thread waiting in <see cref="Receive"/>, call
/// <c>channel.Shutdown(SocketShutdown.Both)</c> (Receive then returns 0) or cancel its token, and
/// dispose the channel after the receiver has returned. The channel's handle is ref-counted during
/// every call, so a concurrent Dispose cannot close a descriptor that is in use (on Linux .NET's
/// Dispose itself shuts the socket down to get the call out, then closes it).
/// </para>
/// <para>Linux only (x64 and arm64, glibc); every member except <see cref="IsSupported"/> throws
/// <see cref="PlatformNotSupportedException"/> elsewhere.</para>
/// <para>Split by concern: this file sets channels up (listen, connect, peer credentials) and holds the poll and
/// errno helpers; UnixHandover.Sending.cs sends and releases; UnixHandover.Receiving.cs receives.</para>
/// </remarks>
internal static unsafe partial class UnixHandover
{
    /// <summary>The largest payload <see cref="Send"/> accepts, in bytes.</summary>
    public const int MaxMessageSize = 65536;

    // How long one poll(2) waits before the cancellation token is looked at again.
    private const int PollSliceMilliseconds = 200;

    /// <summary>True where this class works: Linux.</summary>
    [SupportedOSPlatformGuard("linux")]
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>The effective user id of this process (geteuid), to compare with <see cref="PeerCredentials.UserId"/>.</summary>
    public static uint CurrentUserId
    {
        get
        {
            EnsureSupported();
            return LibC.geteuid();
        }
    }

    /// <summary>
    /// Creates a SOCK_SEQPACKET listener bound to <paramref name="path"/>.
    /// </summary>
    /// <remarks>
    /// The directory is created if missing. A socket file left behind by a process that died is
    /// deleted first; if another process is still listening on the path, an <see cref="IOException"/>
    /// is thrown instead. The file gets default permissions (0777 minus the umask): restrict access
    /// through the directory's permissions and check <see cref="GetPeerCredentials"/> on accepted
    /// connections. Disposing the returned listener deletes the file (.NET does that for sockets it
    /// bound); after a crash the file stays, and the next Listen removes it.
    /// </remarks>
    /// <param name="path">Where the socket file goes.</param>
    /// <param name="backlog">Connections the kernel queues before they are accepted.</param>
    /// <param name="mode">The socket file's mode, set right after bind (connecting needs write permission on it);
    /// null keeps the umask's. Use it beside a <see cref="PrivateDirectory"/>, which guards the gap before the chmod.</param>
    public static Socket Listen(string path, int backlog = 64, UnixFileMode? mode = null)
    {
        EnsureSupported();
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(backlog);

        var endPoint = new UnixDomainSocketEndPoint(path); // validates the length before we touch the disk
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        if (File.Exists(path))
        {
            if (IsListenedOn(endPoint))
            {
                throw new IOException($"Another process is already listening on '{path}'.");
            }

            File.Delete(path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        try
        {
            listener.Bind(endPoint);
            if (mode is { } socketMode)
            {
                File.SetUnixFileMode(path, socketMode);
            }

            listener.Listen(backlog);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Connects a SOCK_SEQPACKET client to the listener at <paramref name="path"/>.</summary>
    public static Socket Connect(string path)
    {
        EnsureSupported();
        ArgumentException.ThrowIfNullOrEmpty(path);

        var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Returns the pid, uid and gid of the process at the other end of a connected Unix-domain
    /// socket (SO_PEERCRED), e.g. to check that a worker runs as the expected user.
    /// </summary>
    public static PeerCredentials GetPeerCredentials(Socket unixSocket)
    {
        EnsureSupported();
        ArgumentNullException.ThrowIfNull(unixSocket);

        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }. GetRawSocketOption is getsockopt with
        // .NET's own handle ref-counting and error mapping, so no P/Invoke is needed here.
        Span<int> ucred = stackalloc int[3];
        int length = unixSocket.GetRawSocketOption(LibC.SOL_SOCKET, LibC.SO_PEERCRED, MemoryMarshal.AsBytes(ucred));
        if (length != 3 * sizeof(int))
        {
            throw new IOException($"SO_PEERCRED returned {length} bytes, expected {3 * sizeof(int)}.");
        }

        return new PeerCredentials(ucred[0], (uint)ucred[1], (uint)ucred[2]);
    }

    private static void EnsureSupported()
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("Passing sockets between processes is implemented for Linux only.");
        }
    }

    /// <summary>Waits in poll(2) until <paramref name="events"/> (or an error/hang-up) is signalled.</summary>
    private static void WaitFor(int fd, short events, CancellationToken cancellationToken)
    {
        // Without a token there is nothing to look at between slices, so wait for the event itself;
        // shutdown(2) on the channel still wakes us (POLLHUP).
        int timeout = cancellationToken.CanBeCanceled ? PollSliceMilliseconds : -1;
        var pollFd = new LibC.PollFd { Fd = fd, Events = events };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            pollFd.REvents = 0;
            int ready = LibC.poll(&pollFd, 1, timeout);
            if (ready > 0)
            {
                if ((pollFd.REvents & LibC.POLLNVAL) != 0)
                {
                    throw CreateException(LibC.EBADF, "poll");
                }

                return; // readable/writable, or POLLERR/POLLHUP: the next call reports what happened
            }

            if (ready < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != LibC.EINTR)
                {
                    throw CreateException(errno, "poll");
                }
            }
        }
    }

    private static void CloseQuietly(int fd)
    {
        if (fd >= 0)
        {
            // Linux releases the descriptor even when close() reports EINTR, so never retry.
            LibC.close(fd);
        }
    }

    private static SocketException CreateException(int errno, string call)
    {
        SocketError error = errno switch
        {
            LibC.EPIPE => SocketError.Shutdown,
            LibC.ECONNRESET => SocketError.ConnectionReset,
            LibC.ENOTCONN => SocketError.NotConnected,
            LibC.EMSGSIZE => SocketError.MessageSize,
            LibC.ENOBUFS or LibC.ENOMEM => SocketError.NoBufferSpaceAvailable,
            LibC.ENOTSOCK => SocketError.NotSocket,
            LibC.EBADF => SocketError.OperationAborted,
            LibC.EINVAL => SocketError.InvalidArgument,
            LibC.EACCES => SocketError.AccessDenied,
            _ => SocketError.SocketError,
        };
        return new SocketException((int)error, $"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
    }

    /// <summary>True if a live listener accepts connections on <paramref name="endPoint"/>.</summary>
    private static bool IsListenedOn(UnixDomainSocketEndPoint endPoint)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        probe.Blocking = false; // a full backlog must not block us: it gives EAGAIN, which also means "alive"
        try
        {
            probe.Connect(endPoint);
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return false; // nobody listening: a stale file (or not a socket at all)
        }
    }
}
