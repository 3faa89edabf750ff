using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop.Tests;

/// <summary>A fact that only runs on Linux, where <see cref="UnixHandover"/> is supported.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!UnixHandover.IsSupported)
        {
            Skip = "UnixHandover is Linux-only.";
        }
    }
}

/// <summary>Tests that count this process's descriptors must not run alongside anything else.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DescriptorCountingCollection
{
    public const string Name = "Descriptor counting";
}

/// <summary>Timeouts that bound every test, so a broken hand-over fails instead of hanging.</summary>
internal static class Bounds
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public static CancellationToken Token() => new CancellationTokenSource(Wait).Token;
}

/// <summary>A unique socket path under the temp directory, deleted on dispose.</summary>
internal sealed class TempSocketPath : IDisposable
{
    public TempSocketPath(string? subdirectory = null)
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "aps-" + Guid.NewGuid().ToString("N")[..12]);
        Path = subdirectory is null
            ? System.IO.Path.Combine(Directory, "h.sock")
            : System.IO.Path.Combine(Directory, subdirectory, "h.sock");
    }

    public string Directory { get; }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>Both ends of a connected hand-over channel ("router" sends, "worker" receives).</summary>
internal sealed class ChannelPair : IDisposable
{
    private readonly TempSocketPath _path = new();

    public ChannelPair()
    {
        using Socket listener = UnixHandover.Listen(_path.Path);
        Router = UnixHandover.Connect(_path.Path);
        Worker = listener.Accept();
    }

    public Socket Router { get; }

    public Socket Worker { get; }

    public void Dispose()
    {
        Router.Dispose();
        Worker.Dispose();
        _path.Dispose();
    }
}

/// <summary>A loopback TCP connection: the client end and the accepted ("router's") end.</summary>
internal sealed class TcpPair : IDisposable
{
    public TcpPair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        Client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Client.Connect(listener.LocalEndPoint!);
        Client.ReceiveTimeout = (int)Bounds.Wait.TotalMilliseconds;
        Accepted = listener.Accept();
    }

    public Socket Client { get; }

    public Socket Accepted { get; }

    public void Dispose()
    {
        Client.Dispose();
        Accepted.Dispose();
    }
}

internal static class Native
{
    private const int F_GETFL = 3;
    private const int O_NONBLOCK = 0x800;

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int command, int argument);

    public static bool IsNonBlocking(Socket socket) => (fcntl((int)socket.Handle, F_GETFL, 0) & O_NONBLOCK) != 0;

    public static int OpenDescriptorCount() => System.IO.Directory.GetFileSystemEntries("/proc/self/fd").Length;

    /// <summary>The effective uid and gid from /proc/self/status ("Uid: real effective saved fs").</summary>
    public static (uint Uid, uint Gid) EffectiveIds()
    {
        string[] lines = File.ReadAllLines("/proc/self/status");
        uint Effective(string key) => uint.Parse(lines.Single(l => l.StartsWith(key, StringComparison.Ordinal))
            .Split('\t', StringSplitOptions.RemoveEmptyEntries)[2]);
        return (Effective("Uid:"), Effective("Gid:"));
    }
}
