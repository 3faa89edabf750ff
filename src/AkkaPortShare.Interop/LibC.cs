using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop;

/// <summary>
/// The few glibc entry points and constants <see cref="UnixHandover"/> needs.
/// </summary>
/// <remarks>
/// Values and layouts are for Linux on x64 and arm64 with glibc (LP64; both use the
/// asm-generic constants for everything below). musl and 32-bit targets are not supported:
/// <c>msghdr</c> differs there. "libc" is mapped to libc.so.6 by the .NET runtime on Linux.
/// </remarks>
internal static unsafe partial class LibC
{
    // errno
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11; // == EWOULDBLOCK on Linux
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EINVAL = 22;
    public const int EPIPE = 32;
    public const int ENOTSOCK = 88;
    public const int EMSGSIZE = 90;
    public const int ECONNRESET = 104;
    public const int ENOBUFS = 105;
    public const int ENOTCONN = 107;
    public const int ETIMEDOUT = 110;
    public const int EINPROGRESS = 115;
    public const int ERANGE = 34;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EPERM = 1;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;

    // files (open flags differ on arm64; see OpenDirectoryNoFollow)
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const uint STATX_TYPE = 0x1;
    public const uint STATX_MODE = 0x2;
    public const uint STATX_UID = 0x8;
    public const int S_IFMT = 0xF000;
    public const int S_IFDIR = 0x4000;
    public const int S_IFLNK = 0xA000;
    public const int S_IFSOCK = 0xC000;
    public const int O_CLOEXEC = 0x80000;

    // sockets
    public const int SOL_SOCKET = 1;
    public const int SCM_RIGHTS = 1;
    public const int SO_LINGER = 13;
    public const int SO_PEERCRED = 17;
    public const int MSG_CTRUNC = 0x8;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;

    // poll
    public const short POLLIN = 0x1;
    public const short POLLOUT = 0x4;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;

    // epoll
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x1;
    public const uint EPOLLOUT = 0x4;
    public const uint EPOLLERR = 0x8;
    public const uint EPOLLHUP = 0x10;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 0x80000000;

    // splice, pipes, eventfd, shutdown
    public const uint SPLICE_F_MOVE = 0x1;
    public const uint SPLICE_F_NONBLOCK = 0x2;
    public const int F_SETPIPE_SZ = 1031;
    public const int F_GETPIPE_SZ = 1032;
    public const int SHUT_WR = 1;
    public const int SO_ERROR = 4;

    // fcntl
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int O_NONBLOCK = 0x800;

    // socket(2), connect(2): the splice relay's own outbound connection
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int IPPROTO_TCP = 6;
    public const int TCP_NODELAY = 1;

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (glibc, 64-bit: 56 bytes; the int after msg_name is padded to 8).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct cmsghdr (64-bit: 16 bytes, so the data starts at offset 16).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CMsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    /// <summary>
    /// struct statx: the same layout on every architecture (unlike struct stat), 256 bytes. Only the fields read here
    /// are named; the rest is padding.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct Statx
    {
        [FieldOffset(0)] public uint Mask;
        [FieldOffset(20)] public uint UserId;
        [FieldOffset(24)] public uint GroupId;
        [FieldOffset(28)] public ushort Mode;
    }

    /// <summary>open(2) flags that differ between x64 (asm-generic) and arm64.</summary>
    public static int OpenDirectoryNoFollow => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture
        == System.Runtime.InteropServices.Architecture.Arm64
        ? 0x4000 | 0x8000      // O_DIRECTORY | O_NOFOLLOW (arm64)
        : 0x10000 | 0x20000;   // O_DIRECTORY | O_NOFOLLOW (x64)

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    /// <summary>struct linger.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Linger
    {
        public int OnOff;
        public int Seconds;
    }

    /// <summary>struct passwd (glibc, 64-bit: 48 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Passwd
    {
        public byte* Name;
        public byte* Password;
        public uint UserId;
        public uint GroupId;
        public byte* Gecos;
        public byte* Directory;
        public byte* Shell;
    }

    // CMSG_* are macros in C, so they are re-implemented here. Alignment is sizeof(size_t) = 8.
    public static int CMsgAlign(int length) => (length + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);

    /// <summary>CMSG_SPACE: bytes a control message with <paramref name="dataLength"/> data bytes occupies.</summary>
    public static int CMsgSpace(int dataLength) => CMsgAlign(sizeof(CMsgHdr)) + CMsgAlign(dataLength);

    /// <summary>CMSG_LEN: the value for cmsg_len (header plus unpadded data).</summary>
    public static int CMsgLen(int dataLength) => CMsgAlign(sizeof(CMsgHdr)) + dataLength;

    /// <summary>CMSG_DATA.</summary>
    public static byte* CMsgData(CMsgHdr* header) => (byte*)header + CMsgAlign(sizeof(CMsgHdr));

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendmsg(int socket, MsgHdr* message, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recvmsg(int socket, MsgHdr* message, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockopt(int socket, int level, int name, void* value, uint* length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(int socket, int level, int name, void* value, uint length);

    // fcntl is variadic in C; passing the optional int like a named one is correct for the
    // Linux x64 and arm64 calling conventions (it is not on Apple arm64, which is unsupported).
    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    /// <summary>Returns 0 or an errno value (ERANGE: the buffer is too small); *result is null when there is no such user.</summary>
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int getpwnam_r(string name, Passwd* entry, byte* buffer, nuint bufferLength, Passwd** result);

    [LibraryImport("libc")]
    public static partial int getpwuid_r(uint uid, Passwd* entry, byte* buffer, nuint bufferLength, Passwd** result);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkdir(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fchmod(int fd, uint mode);

    /// <summary>glibc 2.28+.</summary>
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int statx(int directoryFd, string path, int flags, uint mask, Statx* result);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    /// <summary>Only used with EPOLL_CTL_DEL, where the event may be null (Linux 2.6.9+).</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epollFd, int operation, int fd, void* @event);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    /// <summary><paramref name="events"/> points at epoll_event records laid out as <see cref="EpollEventSize"/> says.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epollFd, byte* events, int maxEvents, int timeoutMilliseconds);

    /// <summary>
    /// struct epoll_event is packed on x64 (12 bytes, data at offset 4) and naturally aligned elsewhere (16 bytes,
    /// data at offset 8), so it is read and written through these offsets rather than a C# struct.
    /// </summary>
    public static readonly int EpollEventSize =
        RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    public static readonly int EpollEventDataOffset =
        RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint splice(int fdIn, long* offIn, int fdOut, long* offOut, nuint length, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initialValue, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shutdown(int socket, int how);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    /// <summary><paramref name="address"/> is a sockaddr_in or sockaddr_in6 (see SocketAddresses).</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int connect(int socket, byte* address, uint addressLength);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint send(int socket, void* buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recv(int socket, void* buffer, nuint length, int flags);
}
