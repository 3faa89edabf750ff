namespace AkkaPortShare.Interop;

/// <summary>
/// Takes a socket descriptor out of every epoll set of this process (Linux only).
/// </summary>
/// <remarks>
/// <para>
/// Why: .NET registers a socket with its epoll engine at the first async operation that has to wait,
/// and its Dispose just closes the descriptor, relying on the kernel to drop the epoll entry. The
/// kernel does that only when the open file description itself goes away, and a socket handed to
/// another process lives on (in flight, then over there). So the entry outlives our descriptor,
/// keyed by (old descriptor number, file). When the same connection comes back to this process
/// (worker → router → same worker) recvmsg usually gives it that same number (the lowest free one),
/// .NET's epoll_ctl(ADD) fails with EEXIST, and the first async receive that has to wait throws
/// InternalException (EEXIST) instead of ever seeing the data (observed on .NET 10).
/// </para>
/// <para>
/// The epoll descriptors are found by readlink on /proc/self/fd. .NET creates all of its engines'
/// epoll instances together, at the first async socket use, and never closes them, so the list is
/// kept once a scan has found any (until then, every call scans again). An epoll instance another
/// library creates later is not seen; that is fine for the purpose here, which is .NET's own.
/// </para>
/// </remarks>
internal static unsafe class EpollSets
{
    private static volatile int[] s_epollFds = [];

    /// <summary>Removes (<paramref name="fd"/>, its file) from every epoll set; entries that are not there are ignored.</summary>
    public static void Remove(int fd)
    {
        int[] epollFds = s_epollFds;
        if (epollFds.Length == 0)
        {
            epollFds = s_epollFds = Scan();
        }

        foreach (int epollFd in epollFds)
        {
            // ENOENT (not registered in that set) is the normal answer. The result is ignored on
            // purpose: nothing here may fail a hand-over, and a stale list entry (EBADF/EINVAL) is harmless.
            LibC.epoll_ctl(epollFd, LibC.EPOLL_CTL_DEL, fd, null);
        }
    }

    private static int[] Scan()
    {
        var found = new List<int>();
        try
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            {
                try
                {
                    if (int.TryParse(Path.GetFileName(entry), out int fd) && new FileInfo(entry).LinkTarget == "anon_inode:[eventpoll]")
                    {
                        found.Add(fd);
                    }
                }
                catch (IOException)
                {
                    // closed since the directory was listed
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // no /proc: nothing we can do
        }

        return found.ToArray();
    }
}
