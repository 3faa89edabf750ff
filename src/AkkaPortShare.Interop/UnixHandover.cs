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
/// </remarks>
public static unsafe class UnixHandover
{
    /// <summary>The largest payload <see cref="Send"/> accepts, in bytes.</summary>
    public const int MaxMessageSize = 65536;

    // How long one poll(2) waits before the cancellation token is looked at again.
    private const int PollSliceMilliseconds = 200;

    // Room for this many descriptors in one received message. We only ever send one, but if a peer
    // sends more, the kernel would silently drop those that do not fit (and set MSG_CTRUNC), so we
    // leave space to receive and close a few extras instead of failing.
    private const int MaxReceivedFds = 16;

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
    /// Sends one message: <paramref name="payload"/> plus, optionally, the descriptor of
    /// <paramref name="passSocket"/>. The kernel gives the receiver its own copy; our copy stays
    /// owned by the caller (see <see cref="ReleaseAfterHandover"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The payload is empty or longer than <see cref="MaxMessageSize"/>.</exception>
    /// <exception cref="SocketException">The channel failed, e.g. <see cref="SocketError.Shutdown"/> when the peer has gone.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting for buffer space; nothing was sent.</exception>
    public static void Send(Socket channel, ReadOnlySpan<byte> payload, Socket? passSocket = null, CancellationToken cancellationToken = default) =>
        SendCore(channel, payload, passSocket, wait: true, cancellationToken);

    /// <summary>
    /// Like <see cref="Send"/>, but never waits: false (and nothing sent) when the channel's send buffer has no
    /// room now. Safe to call where blocking is not allowed (an actor's message handler); after a false, call
    /// <see cref="Send"/> from a thread that may wait.
    /// </summary>
    /// <exception cref="ArgumentException">The payload is empty or longer than <see cref="MaxMessageSize"/>.</exception>
    /// <exception cref="SocketException">The channel failed, e.g. <see cref="SocketError.Shutdown"/> when the peer has gone.</exception>
    public static bool TrySend(Socket channel, ReadOnlySpan<byte> payload, Socket? passSocket = null) =>
        SendCore(channel, payload, passSocket, wait: false, CancellationToken.None);

    private static bool SendCore(Socket channel, ReadOnlySpan<byte> payload, Socket? passSocket, bool wait, CancellationToken cancellationToken)
    {
        EnsureSupported();
        ArgumentNullException.ThrowIfNull(channel);
        if (payload.IsEmpty)
        {
            throw new ArgumentException("The payload must not be empty: the receiver would read a zero-length message as end of stream.", nameof(payload));
        }

        if (payload.Length > MaxMessageSize)
        {
            throw new ArgumentException($"The payload is {payload.Length} bytes; at most {MaxMessageSize} are allowed.", nameof(payload));
        }

        SafeSocketHandle channelHandle = channel.SafeHandle;
        SafeSocketHandle? passHandle = passSocket?.SafeHandle;
        bool channelAdded = false;
        bool passAdded = false;
        try
        {
            // Pin both descriptors for the duration, so neither can be closed (and its number reused)
            // under the syscall. Throws ObjectDisposedException if either socket is already closed.
            channelHandle.DangerousAddRef(ref channelAdded);
            passHandle?.DangerousAddRef(ref passAdded);
            int fd = (int)channelHandle.DangerousGetHandle();

            // One SCM_RIGHTS message with one int: CMSG_SPACE(4) = 24 bytes; ulongs keep it 8-aligned.
            ulong* control = stackalloc ulong[3];
            int controlLength = 0;
            if (passHandle is not null)
            {
                controlLength = LibC.CMsgSpace(sizeof(int));
                new Span<byte>(control, controlLength).Clear();
                var header = (LibC.CMsgHdr*)control;
                header->Length = (nuint)LibC.CMsgLen(sizeof(int));
                header->Level = LibC.SOL_SOCKET;
                header->Type = LibC.SCM_RIGHTS;
                *(int*)LibC.CMsgData(header) = (int)passHandle.DangerousGetHandle();
            }

            fixed (byte* data = payload)
            {
                var iov = new LibC.IoVec { Base = data, Length = (nuint)payload.Length };
                var message = new LibC.MsgHdr
                {
                    Iov = &iov,
                    IovLength = 1,
                    Control = controlLength == 0 ? null : control,
                    ControlLength = (nuint)controlLength,
                };

                while (true)
                {
                    // MSG_NOSIGNAL: a vanished peer must give EPIPE, not kill the process with SIGPIPE.
                    nint sent = LibC.sendmsg(fd, &message, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
                    if (sent >= 0)
                    {
                        // SOCK_SEQPACKET sends are all-or-nothing, but say so loudly if that ever changes.
                        if (sent != payload.Length)
                        {
                            throw new IOException($"sendmsg sent {sent} of {payload.Length} bytes.");
                        }

                        return true;
                    }

                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.EINTR)
                    {
                        continue;
                    }

                    if (errno != LibC.EAGAIN)
                    {
                        throw CreateException(errno, "sendmsg");
                    }

                    if (!wait)
                    {
                        return false;
                    }

                    WaitFor(fd, LibC.POLLOUT, cancellationToken);
                }
            }
        }
        finally
        {
            if (passAdded)
            {
                passHandle!.DangerousRelease();
            }

            if (channelAdded)
            {
                channelHandle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Receives one message into <paramref name="buffer"/>.
    /// </summary>
    /// <param name="channel">A connected SOCK_SEQPACKET socket.</param>
    /// <param name="buffer">Where the payload goes; give it <see cref="MaxMessageSize"/> bytes unless the protocol guarantees less.</param>
    /// <param name="received">
    /// The socket that came with the message, or null. The caller owns it. If its descriptor arrived
    /// in O_NONBLOCK mode (the sender had used async operations on it), it has been set up so that
    /// .NET handles that correctly; see the remarks.
    /// </param>
    /// <param name="cancellationToken">Looked at between waits (every 200 ms); a message is never lost to cancellation.</param>
    /// <returns>The payload length, or 0 at end of stream (the peer closed or shut down the channel).</returns>
    /// <remarks>
    /// A socket built from a descriptor that is already O_NONBLOCK reports Blocking == true but
    /// treats EAGAIN as a timeout in synchronous calls. Such a socket is switched to
    /// Blocking = false and back, which makes .NET emulate blocking calls as it does for its own
    /// sockets; the descriptor stays O_NONBLOCK.
    /// </remarks>
    /// <exception cref="IOException">The message or its control data did not fit (MSG_TRUNC / MSG_CTRUNC); any descriptor that came with it has been closed.</exception>
    /// <exception cref="SocketException">The channel failed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; no message was consumed.</exception>
    public static int Receive(Socket channel, Span<byte> buffer, out Socket? received, CancellationToken cancellationToken = default)
    {
        EnsureSupported();
        ArgumentNullException.ThrowIfNull(channel);
        if (buffer.IsEmpty)
        {
            throw new ArgumentException("The buffer must not be empty.", nameof(buffer));
        }

        received = null;
        int controlSize = LibC.CMsgSpace(sizeof(int) * MaxReceivedFds);
        ulong* control = stackalloc ulong[controlSize / sizeof(ulong)];

        SafeSocketHandle channelHandle = channel.SafeHandle;
        bool channelAdded = false;
        try
        {
            channelHandle.DangerousAddRef(ref channelAdded);
            int fd = (int)channelHandle.DangerousGetHandle();

            fixed (byte* data = buffer)
            {
                var iov = new LibC.IoVec { Base = data, Length = (nuint)buffer.Length };
                while (true)
                {
                    var message = new LibC.MsgHdr
                    {
                        Iov = &iov,
                        IovLength = 1,
                        Control = control,
                        ControlLength = (nuint)controlSize,
                    };

                    // MSG_CMSG_CLOEXEC: the received descriptor must not leak into child processes
                    // (.NET also treats sockets without FD_CLOEXEC as shared and will not abort them).
                    nint length = LibC.recvmsg(fd, &message, LibC.MSG_CMSG_CLOEXEC | LibC.MSG_DONTWAIT);
                    if (length >= 0)
                    {
                        int receivedFd = TakeDescriptor(&message);
                        if ((message.Flags & (LibC.MSG_TRUNC | LibC.MSG_CTRUNC)) != 0)
                        {
                            CloseQuietly(receivedFd);
                            throw new IOException((message.Flags & LibC.MSG_TRUNC) != 0
                                ? $"A hand-over message did not fit into the {buffer.Length}-byte buffer and was truncated; it has been discarded."
                                : "The control data of a hand-over message was truncated (too many descriptors); the message has been discarded.");
                        }

                        if (length == 0 && receivedFd >= 0)
                        {
                            // Our Send never does this, and the caller could not tell it from end of stream.
                            CloseQuietly(receivedFd);
                            throw new IOException("Received a descriptor with an empty payload; the message has been discarded.");
                        }

                        received = receivedFd >= 0 ? WrapReceived(receivedFd) : null;
                        return (int)length;
                    }

                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.EINTR)
                    {
                        continue;
                    }

                    if (errno != LibC.EAGAIN)
                    {
                        throw CreateException(errno, "recvmsg");
                    }

                    WaitFor(fd, LibC.POLLIN, cancellationToken);
                }
            }
        }
        finally
        {
            if (channelAdded)
            {
                channelHandle.DangerousRelease();
            }
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

    /// <summary>
    /// Closes our copy of a socket whose descriptor was passed to another process, without
    /// disturbing the connection: the other process's copy keeps working. Does nothing if the
    /// socket is already disposed.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Call it after <see cref="Send"/> has returned, with no operation running on the socket in
    /// another thread. Never call Shutdown on a handed-over socket: shutdown(2) acts on the
    /// connection, not on our descriptor, so it would cut off the other process too.
    /// </para>
    /// <para>
    /// Why not SetHandleAsInvalid + Dispose + close(2): on .NET 10 that makes Dispose spin forever,
    /// and while spinning it "unblocks" the (CLOEXEC) descriptor with connect(AF_UNSPEC), which resets
    /// the connection for every process (observed). A plain Dispose with nothing in flight just
    /// unregisters the socket from .NET's epoll engine and calls close(2), which leaves a shared
    /// connection alone. Its one side effect on the shared socket: if async operations were still
    /// pending, .NET aborts them and closes "abortively", setting SO_LINGER {on, 0}, so the other
    /// process's eventual close would send RST instead of FIN. We therefore keep a duplicate of the
    /// descriptor across the Dispose and put SO_LINGER back if it was changed.
    /// </para>
    /// <para>
    /// It also takes the descriptor out of this process's epoll sets first: .NET does not, and the
    /// kernel drops the entry only when the last copy of the socket closes, so a stale entry would
    /// make .NET's registration fail (EEXIST) if the connection is handed back to this process later.
    /// </para>
    /// </remarks>
    public static void ReleaseAfterHandover(Socket handedOver)
    {
        EnsureSupported();
        ArgumentNullException.ThrowIfNull(handedOver);

        SafeSocketHandle handle = handedOver.SafeHandle;
        int keep = -1;
        LibC.Linger before = default;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();

            // Dispose leaves the socket in .NET's epoll set (the file lives on elsewhere), which would
            // break async I/O if the connection ever came back to this process; see EpollSets.
            EpollSets.Remove(fd);
            keep = LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0);
            if (keep >= 0 && !TryGetLinger(keep, out before))
            {
                CloseQuietly(keep);
                keep = -1;
            }
        }
        catch (ObjectDisposedException)
        {
            return; // already released
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        try
        {
            handedOver.Dispose();
        }
        finally
        {
            if (keep >= 0)
            {
                if (TryGetLinger(keep, out LibC.Linger after) && (after.OnOff != before.OnOff || after.Seconds != before.Seconds))
                {
                    LibC.setsockopt(keep, LibC.SOL_SOCKET, LibC.SO_LINGER, &before, (uint)sizeof(LibC.Linger));
                }

                CloseQuietly(keep);
            }
        }
    }

    private static bool TryGetLinger(int fd, out LibC.Linger linger)
    {
        LibC.Linger value = default;
        uint length = (uint)sizeof(LibC.Linger);
        bool ok = LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_LINGER, &value, &length) == 0;
        linger = value;
        return ok;
    }

    private static void EnsureSupported()
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("Passing sockets between processes is implemented for Linux only.");
        }
    }

    /// <summary>
    /// Walks the control messages (CMSG_FIRSTHDR/CMSG_NXTHDR) and returns the first SCM_RIGHTS
    /// descriptor, or -1; every further descriptor is closed so none can leak.
    /// </summary>
    private static int TakeDescriptor(LibC.MsgHdr* message)
    {
        int result = -1;
        byte* current = (byte*)message->Control;
        byte* end = current + message->ControlLength;
        while (current + sizeof(LibC.CMsgHdr) <= end)
        {
            var header = (LibC.CMsgHdr*)current;
            if (header->Length < (nuint)sizeof(LibC.CMsgHdr) || header->Length > (nuint)(end - current))
            {
                break;
            }

            if (header->Level == LibC.SOL_SOCKET && header->Type == LibC.SCM_RIGHTS)
            {
                int count = ((int)header->Length - LibC.CMsgLen(0)) / sizeof(int);
                int* fds = (int*)LibC.CMsgData(header);
                for (int i = 0; i < count; i++)
                {
                    if (result < 0)
                    {
                        result = fds[i];
                    }
                    else
                    {
                        CloseQuietly(fds[i]);
                    }
                }
            }

            current += LibC.CMsgAlign((int)header->Length);
        }

        return result;
    }

    private static Socket WrapReceived(int fd)
    {
        // If this connection was in this process before (handed away, now handed back) and the old
        // Socket was closed without ReleaseAfterHandover, its epoll entry may still be there under
        // this same number; .NET's registration would then fail with EEXIST. Nobody can have
        // registered the new number yet, so any entry for it is stale. See EpollSets.
        EpollSets.Remove(fd);

        int statusFlags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        bool nonBlocking = statusFlags >= 0 && (statusFlags & LibC.O_NONBLOCK) != 0;
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        Socket socket;
        try
        {
            socket = new Socket(handle);
        }
        catch
        {
            // Not a socket (the ctor checks), or similar. Disposing the handle would take .NET's
            // socket-close path (setsockopt before close), which can skip close() on a non-socket.
            handle.SetHandleAsInvalid();
            CloseQuietly(fd);
            throw;
        }

        if (nonBlocking)
        {
            // The Socket(SafeSocketHandle) ctor records the O_NONBLOCK state only in a private field;
            // the handle still believes the descriptor is blocking, so a synchronous Receive would
            // treat EAGAIN as a timeout. Going through Blocking = false tells the handle the truth;
            // Blocking = true then gives the usual emulated-blocking behaviour.
            socket.Blocking = false;
            socket.Blocking = true;
        }

        return socket;
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
