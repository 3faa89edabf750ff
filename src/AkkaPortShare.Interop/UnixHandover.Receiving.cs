using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop;

// Receiving: one message and the descriptor that came with it, wrapped so .NET handles its O_NONBLOCK state.
internal static unsafe partial class UnixHandover
{
    // Room for this many descriptors in one received message. We only ever send one, but if a peer
    // sends more, the kernel would silently drop those that do not fit (and set MSG_CTRUNC), so we
    // leave space to receive and close a few extras instead of failing.
    private const int MaxReceivedFds = 16;

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
}
