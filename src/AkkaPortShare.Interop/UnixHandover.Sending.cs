using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop;

// Sending: one message with at most one descriptor, waiting or not, and releasing our copy afterwards.
internal static unsafe partial class UnixHandover
{
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
    /// <param name="handedOver">The socket just passed.</param>
    /// <param name="neverAsync">No asynchronous operation was ever started on it (accepted, then read and set only
    /// synchronously, as the accept loop's hand-over does): .NET registered it with no epoll set and its Dispose has
    /// nothing to abort, so it leaves SO_LINGER alone. A plain Dispose (one close) is then all it takes; the epoll
    /// removal, the duplicate and the two SO_LINGER reads are five syscalls per connection spared.</param>
    public static void ReleaseAfterHandover(Socket handedOver, bool neverAsync = false)
    {
        EnsureSupported();
        ArgumentNullException.ThrowIfNull(handedOver);
        if (neverAsync)
        {
            handedOver.Dispose();
            return;
        }

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
}
