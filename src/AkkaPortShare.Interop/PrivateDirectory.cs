using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop;

/// <summary>
/// A directory for Unix-domain sockets that only its owner can change: created with the mode asked for, and when it
/// already exists, accepted only if it is a real directory (never a symbolic link, which is not followed), owned by
/// this process's user and writable by nobody else. Linux only, like <see cref="UnixHandover"/>.
/// </summary>
/// <remarks>
/// Why so strict: whoever can write to the directory can replace a socket file with one of their own, and whoever
/// can plant a symbolic link where the directory should be chooses where our sockets go. The checks run on a
/// descriptor opened with O_NOFOLLOW, so a link swapped in between the check and the chmod is never followed.
/// </remarks>
internal static unsafe class PrivateDirectory
{
    private const uint GroupOrOtherWritable = 0x12; // 0022

    /// <summary>Creates <paramref name="path"/> with <paramref name="mode"/>, or checks the existing one and sets that mode.</summary>
    /// <exception cref="UnsafeDirectoryException">The path is a link or not a directory, belongs to another user, is
    /// writable by group or others, or cannot be created; the message names the path and the problem.</exception>
    /// <exception cref="ArgumentException">The mode itself lets group or others write.</exception>
    public static void Ensure(string path, UnixFileMode mode)
    {
        EnsureSupported();
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (((uint)mode & GroupOrOtherWritable) != 0)
            throw new ArgumentException($"Mode {Octal((uint)mode)} lets group or others write; a socket directory must not.", nameof(mode));

        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var parent = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(parent) && !Directory.Exists(parent)) Directory.CreateDirectory(parent);
        if (LibC.mkdir(full, (uint)mode) != 0 && Marshal.GetLastPInvokeError() is var error && error != LibC.EEXIST)
            throw new UnsafeDirectoryException(full, $"cannot be created: {Marshal.GetPInvokeErrorMessage(error)}");

        var fd = LibC.open(full, LibC.OpenDirectoryNoFollow | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            var openError = Marshal.GetLastPInvokeError();
            throw new UnsafeDirectoryException(full, TryStat(full, out var entry) && (entry.Mode & LibC.S_IFMT) == LibC.S_IFLNK
                ? "is a symbolic link (refusing to follow it; it must be a real directory)"
                : openError == LibC.ENOTDIR ? "is not a directory" : $"cannot be opened: {Marshal.GetPInvokeErrorMessage(openError)}");
        }
        try
        {
            LibC.Statx status;
            if (LibC.statx(fd, "", LibC.AT_EMPTY_PATH, LibC.STATX_TYPE | LibC.STATX_MODE | LibC.STATX_UID, &status) != 0)
                throw new UnsafeDirectoryException(full, $"cannot be examined: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            var self = LibC.geteuid();
            if (status.UserId != self)
                throw new UnsafeDirectoryException(full,
                    $"belongs to user {UnixUsers.Describe(status.UserId)}, not to user {UnixUsers.Describe(self)} this process runs as");
            if ((status.Mode & GroupOrOtherWritable) != 0)
                throw new UnsafeDirectoryException(full,
                    $"is writable by group or others (mode {Octal(status.Mode & 0xFFFu)}); make it 0700 or 0750, or remove it");
            // Our own directory: give it the configured mode (mkdir's was cut by the umask, or the setting changed).
            if ((status.Mode & 0xFFFu) != (uint)mode && LibC.fchmod(fd, (uint)mode) != 0)
                throw new UnsafeDirectoryException(full, $"cannot be given mode {Octal((uint)mode)}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        finally
        {
            LibC.close(fd);
        }
    }

    /// <summary>
    /// Deletes the sockets in <paramref name="directory"/> that a process which no longer runs left behind:
    /// <paramref name="processOf"/> names the pid a file name belongs to (null: not one of ours, left alone). Only
    /// socket files owned by this process's user are deleted; links are never followed, and nothing else is touched.
    /// </summary>
    /// <returns>The paths deleted.</returns>
    public static IReadOnlyList<string> RemoveStaleSockets(string directory, Func<string, int?> processOf)
    {
        EnsureSupported();
        var removed = new List<string>();
        var self = LibC.geteuid();
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
        {
            if (processOf(Path.GetFileName(entry)) is not { } pid || UnixProcesses.IsRunning(pid)) continue;
            if (!TryStat(entry, out var status) || (status.Mode & LibC.S_IFMT) != LibC.S_IFSOCK || status.UserId != self) continue;
            try
            {
                File.Delete(entry); // unlink(2): removes the name itself, whatever it is, and follows nothing
                removed.Add(entry);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone already, or not ours to delete after all: either way nothing to do.
            }
        }
        return removed;
    }

    // lstat(2) semantics: the entry itself, never what a link points to.
    private static bool TryStat(string path, out LibC.Statx status)
    {
        LibC.Statx result;
        var ok = LibC.statx(LibC.AT_FDCWD, path, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_TYPE | LibC.STATX_MODE | LibC.STATX_UID, &result) == 0;
        status = result;
        return ok;
    }

    /// <summary>systemd's RuntimeDirectory= for this service ($RUNTIME_DIRECTORY, its first entry), or null outside one.</summary>
    public static string? RuntimeDirectory() =>
        Environment.GetEnvironmentVariable("RUNTIME_DIRECTORY")?.Split(':')[0] is { Length: > 0 } directory ? directory : null;

    /// <summary>
    /// The default place for a process's sockets: <see cref="RuntimeDirectory"/> (a private directory systemd removes
    /// on stop) when set, else "akkaportshare-&lt;uid&gt;" under the temp directory, one per user so that users never
    /// share (or race to create) one directory.
    /// </summary>
    public static string DefaultSocketDirectory() => RuntimeDirectory() ?? UserTempDirectory();

    /// <summary>"akkaportshare-&lt;uid&gt;" under the temp directory (the user name where there are no uids).</summary>
    public static string UserTempDirectory()
    {
        var user = UnixHandover.IsSupported ? UnixHandover.CurrentUserId.ToString() : Environment.UserName;
        return Path.Combine(Path.GetTempPath(), $"akkaportshare-{user}");
    }

    /// <summary>"0750".</summary>
    public static string Octal(uint mode) => "0" + Convert.ToString(mode, 8);

    private static void EnsureSupported()
    {
        if (!UnixHandover.IsSupported) throw new PlatformNotSupportedException("Socket directories are implemented for Linux only.");
    }
}

/// <summary>A socket directory that is not safe to use; the message says which path and why.</summary>
internal sealed class UnsafeDirectoryException(string path, string problem)
    : IOException($"The socket directory {path} {problem}.")
{
    public string Path { get; } = path;
}
