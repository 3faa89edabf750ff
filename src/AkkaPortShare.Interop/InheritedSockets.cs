using System.Net.Sockets;

namespace AkkaPortShare.Interop;

/// <summary>
/// Listening sockets a service manager passed to this process (systemd socket activation: LISTEN_PID is this
/// process, LISTEN_FDS sockets start at descriptor 3). The socket outlives the process that serves it, so while a
/// router restarts new connections wait in the kernel's backlog instead of being refused.
/// </summary>
internal static class InheritedSockets
{
    private const int FirstDescriptor = 3;
    private const int F_GETFD = 1;
    private const int F_SETFD = 2;
    private const int FD_CLOEXEC = 1;

    /// <summary>
    /// Takes the passed sockets (empty when none were passed to this process) and removes the variables, so that
    /// no child process takes them too. Each is made close-on-exec: .NET does not do it for descriptors it did not
    /// open (dotnet/aspnetcore#29189), and a worker started by the router must not hold the shared port.
    /// </summary>
    public static IReadOnlyList<Socket> TakeListenSockets()
    {
        var pid = Environment.GetEnvironmentVariable("LISTEN_PID");
        var count = Environment.GetEnvironmentVariable("LISTEN_FDS");
        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
        if (!OperatingSystem.IsLinux() || pid != Environment.ProcessId.ToString() || !int.TryParse(count, out var n) || n < 1)
            return [];
        var sockets = new List<Socket>(n);
        for (var fd = FirstDescriptor; fd < FirstDescriptor + n; fd++)
        {
            SetCloseOnExec(fd, true);
            sockets.Add(new Socket(new SafeSocketHandle(fd, ownsHandle: true)));
        }
        return sockets;
    }

    /// <summary>Lets a child process inherit <paramref name="socket"/> (or not): FD_CLOEXEC off (on).</summary>
    public static void SetInheritable(Socket socket, bool inheritable) =>
        SetCloseOnExec((int)socket.SafeHandle.DangerousGetHandle(), !inheritable);

    private static void SetCloseOnExec(int fd, bool closeOnExec)
    {
        var flags = LibC.fcntl(fd, F_GETFD, 0);
        if (flags < 0) throw new IOException($"descriptor {fd} is not open (fcntl F_GETFD failed)");
        var wanted = closeOnExec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
        if (wanted != flags && LibC.fcntl(fd, F_SETFD, wanted) < 0)
            throw new IOException($"fcntl F_SETFD on descriptor {fd} failed");
    }
}
