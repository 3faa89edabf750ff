using System.Diagnostics;
using System.Net.Sockets;

namespace AkkaPortShare.Interop.Tests;

/// <summary>
/// The socket directory is used only when nobody but its owner can change it, and a planted link is never followed.
/// Each test works in a fresh parent under the temp directory.
/// </summary>
public sealed class PrivateDirectoryTests : IDisposable
{
    private const UnixFileMode Mode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode Mode0750 = Mode0700 | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
    private const uint Nobody = 65534;

    private readonly string _parent = Directory.CreateTempSubdirectory("aps-private-").FullName;

    private string Target => Path.Combine(_parent, "sockets");

    public void Dispose()
    {
        try { Directory.Delete(_parent, recursive: true); } catch (IOException) { }
    }

    [LinuxFact]
    public void A_missing_directory_is_created_with_exactly_the_mode_whatever_the_umask()
    {
        PrivateDirectory.Ensure(Target, Mode0750);

        Assert.True(Directory.Exists(Target));
        Assert.Equal(Mode0750, File.GetUnixFileMode(Target));
    }

    [LinuxFact]
    public void An_existing_own_directory_is_kept_and_given_the_configured_mode()
    {
        Directory.CreateDirectory(Target);
        File.SetUnixFileMode(Target, Mode0750);
        File.WriteAllText(Path.Combine(Target, "keep"), "x");

        PrivateDirectory.Ensure(Target, Mode0700);

        Assert.Equal(Mode0700, File.GetUnixFileMode(Target));
        Assert.True(File.Exists(Path.Combine(Target, "keep")));
    }

    [LinuxFact]
    public void A_planted_symbolic_link_is_refused_and_not_followed()
    {
        var elsewhere = Directory.CreateDirectory(Path.Combine(_parent, "attacker-chosen")).FullName;
        File.SetUnixFileMode(elsewhere, (UnixFileMode)0x1FF); // 0777, and it must stay so
        File.CreateSymbolicLink(Target, elsewhere);

        var e = Assert.Throws<UnsafeDirectoryException>(() => PrivateDirectory.Ensure(Target, Mode0700));

        Assert.Contains(Target, e.Message);
        Assert.Contains("is a symbolic link", e.Message);
        Assert.Equal((UnixFileMode)0x1FF, File.GetUnixFileMode(elsewhere));
    }

    [LinuxFact]
    public void A_dangling_symbolic_link_is_refused_and_nothing_is_created_where_it_points()
    {
        var pointsTo = Path.Combine(_parent, "not-yet");
        File.CreateSymbolicLink(Target, pointsTo);

        var e = Assert.Throws<UnsafeDirectoryException>(() => PrivateDirectory.Ensure(Target, Mode0700));

        Assert.Contains("is a symbolic link", e.Message);
        Assert.False(Directory.Exists(pointsTo));
    }

    [LinuxFact]
    public void A_regular_file_in_its_place_is_refused()
    {
        File.WriteAllText(Target, "x");

        var e = Assert.Throws<UnsafeDirectoryException>(() => PrivateDirectory.Ensure(Target, Mode0700));

        Assert.Contains("is not a directory", e.Message);
    }

    [LinuxFact]
    public void A_group_writable_directory_is_refused_with_its_mode()
    {
        Directory.CreateDirectory(Target);
        File.SetUnixFileMode(Target, Mode0700 | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute);

        var e = Assert.Throws<UnsafeDirectoryException>(() => PrivateDirectory.Ensure(Target, Mode0700));

        Assert.Contains("writable by group or others (mode 0770)", e.Message);
        Assert.Contains(Target, e.Message);
    }

    [LinuxFact]
    public void A_directory_of_another_user_is_refused()
    {
        if (UnixHandover.CurrentUserId != 0) return; // chown needs root (the suite runs as root in CI)
        Directory.CreateDirectory(Target);
        File.SetUnixFileMode(Target, Mode0700);
        Run("chown", $"{Nobody}:{Nobody}", Target);

        var e = Assert.Throws<UnsafeDirectoryException>(() => PrivateDirectory.Ensure(Target, Mode0700));

        Assert.Contains($"belongs to user {Nobody} (nobody)", e.Message);
    }

    [LinuxFact]
    public void A_mode_that_lets_group_write_is_rejected_before_anything_is_created()
    {
        Assert.Throws<ArgumentException>(() => PrivateDirectory.Ensure(Target, Mode0700 | UnixFileMode.GroupWrite));
        Assert.False(Directory.Exists(Target));
    }

    [LinuxFact]
    public void Stale_sockets_of_dead_processes_are_removed_and_nothing_else()
    {
        PrivateDirectory.Ensure(Target, Mode0700);
        var dead = DeadProcessId();
        var live = Environment.ProcessId;
        string In(string name) => Path.Combine(Target, name);
        using var liveListener = UnixHandover.Listen(In($"w-{live}.sock"));
        LeaveSocketFile(In($"w-{dead}.sock"));
        File.WriteAllText(In($"w-{dead}.file"), "not a socket");
        var outside = Path.Combine(_parent, "outside.sock");
        LeaveSocketFile(outside);
        File.CreateSymbolicLink(In($"w-{dead}.link"), outside);
        LeaveSocketFile(In("unrelated.sock"));
        var pids = new Dictionary<string, int>
        {
            [$"w-{live}.sock"] = live, [$"w-{dead}.sock"] = dead, [$"w-{dead}.file"] = dead, [$"w-{dead}.link"] = dead,
        };

        var removed = PrivateDirectory.RemoveStaleSockets(Target, name => pids.TryGetValue(name, out var pid) ? pid : null);

        Assert.Equal([In($"w-{dead}.sock")], removed);
        Assert.False(File.Exists(In($"w-{dead}.sock")));
        Assert.True(File.Exists(In($"w-{live}.sock")));
        Assert.True(File.Exists(In($"w-{dead}.file")));
        Assert.NotNull(new FileInfo(In($"w-{dead}.link")).LinkTarget);
        Assert.True(File.Exists(outside));
        Assert.True(File.Exists(In("unrelated.sock")));
    }

    [LinuxFact]
    public void UnixProcesses_tells_a_running_process_from_one_that_exited()
    {
        Assert.True(UnixProcesses.IsRunning(Environment.ProcessId));
        Assert.True(UnixProcesses.IsRunning(1));
        Assert.False(UnixProcesses.IsRunning(DeadProcessId()));
    }

    [LinuxFact]
    public void Listen_gives_the_socket_file_the_mode_asked_for()
    {
        PrivateDirectory.Ensure(Target, Mode0750);
        var path = Path.Combine(Target, "h.sock");
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

        using var listener = UnixHandover.Listen(path, mode: mode);

        Assert.Equal(mode, File.GetUnixFileMode(path));
    }

    // A socket file nobody listens on any more, as a killed process leaves it.
    private static void LeaveSocketFile(string path)
    {
        // .NET deletes the file it bound when the socket is disposed; under another name, the file stays.
        using var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path + ".bound"));
        File.Move(path + ".bound", path);
    }

    // The pid of a process that has exited (and been reaped); pids are not reused this soon.
    private static int DeadProcessId()
    {
        using var process = Process.Start("true") ?? throw new InvalidOperationException("true");
        process.WaitForExit();
        return process.Id;
    }

    private static void Run(string file, params string[] args)
    {
        using var process = Process.Start(file, args) ?? throw new InvalidOperationException(file);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }
}
