using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace AkkaPortShare.Interop.Tests;

/// <summary>
/// Passes descriptors across a real process boundary. The other process is a few lines of Python
/// (socket.send_fds/recv_fds, 3.9+), which also shows that our control-message layout matches what
/// the C macros produce. Skipped when python3 is not on PATH.
/// </summary>
public sealed class CrossProcessHandoverTests
{
    private const string EchoWorker = """
        import socket, sys
        ch = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ch.connect(sys.argv[1])
        msg, fds, flags, addr = socket.recv_fds(ch, 65536, 4)
        assert len(fds) == 1, fds
        conn = socket.socket(fileno=fds[0])
        conn.settimeout(10)
        data = conn.recv(100)
        conn.sendall(b"echo:" + msg + b"|" + data)
        conn.close()
        """;

    private const string TwoDescriptorSender = """
        import socket, sys
        ch = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ch.connect(sys.argv[1])
        a, b = socket.socketpair()
        c, d = socket.socketpair()
        socket.send_fds(ch, [b"two"], [a.fileno(), c.fileno()])
        a.close(); c.close()
        b.settimeout(10); d.settimeout(10)
        via_a = b.recv(100)
        rest = d.recv(1)  # b"" once every copy of c is closed, ours included
        ch.send(via_a + b"|" + (b"closed" if rest == b"" else b"open"))
        """;

    [PythonFact]
    public async Task A_tcp_connection_handed_to_another_process_is_served_there()
    {
        using var path = new TempSocketPath();
        using Socket listener = UnixHandover.Listen(path.Path);
        using Process python = StartPython(EchoWorker, path.Path);
        try
        {
            using Socket channel = await listener.AcceptAsync().WaitAsync(Bounds.Wait);
            Assert.Equal(python.Id, UnixHandover.GetPeerCredentials(channel).ProcessId);

            using var tcp = new TcpPair();
            UnixHandover.Send(channel, Encoding.ASCII.GetBytes("pre"), tcp.Accepted, Bounds.Token());
            UnixHandover.ReleaseAfterHandover(tcp.Accepted);

            tcp.Client.Send(Encoding.ASCII.GetBytes("hi"));
            Assert.Equal("echo:pre|hi", Encoding.ASCII.GetString(ReceiveToEnd(tcp.Client)));
            await AssertExitedCleanly(python);
        }
        finally
        {
            KillIfRunning(python);
        }
    }

    [PythonFact]
    public async Task Descriptors_from_another_process_are_received_and_extras_closed()
    {
        using var path = new TempSocketPath();
        using Socket listener = UnixHandover.Listen(path.Path);
        using Process python = StartPython(TwoDescriptorSender, path.Path);
        try
        {
            using Socket channel = await listener.AcceptAsync().WaitAsync(Bounds.Wait);
            var buffer = new byte[UnixHandover.MaxMessageSize];

            int length = UnixHandover.Receive(channel, buffer, out Socket? received, Bounds.Token());
            Assert.Equal("two", Encoding.ASCII.GetString(buffer, 0, length));
            using (Socket socket = Assert.IsType<Socket>(received))
            {
                socket.Send(Encoding.ASCII.GetBytes("via-a"));
            }

            length = UnixHandover.Receive(channel, buffer, out received, Bounds.Token());
            Assert.Null(received);
            Assert.Equal("via-a|closed", Encoding.ASCII.GetString(buffer, 0, length));
            await AssertExitedCleanly(python);
        }
        finally
        {
            KillIfRunning(python);
        }
    }

    private static Process StartPython(string script, string channelPath)
    {
        var startInfo = new ProcessStartInfo("python3")
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(script);
        startInfo.ArgumentList.Add(channelPath);
        return Process.Start(startInfo)!;
    }

    private static async Task AssertExitedCleanly(Process python)
    {
        string errors = await python.StandardError.ReadToEndAsync().WaitAsync(Bounds.Wait);
        await python.WaitForExitAsync().WaitAsync(Bounds.Wait);
        Assert.True(python.ExitCode == 0, $"python3 exited with {python.ExitCode}: {errors}");
    }

    private static void KillIfRunning(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
        }
    }

    private static byte[] ReceiveToEnd(Socket socket)
    {
        using var received = new MemoryStream();
        var buffer = new byte[256];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
        {
            received.Write(buffer, 0, n);
        }

        return received.ToArray();
    }
}

/// <summary>A Linux fact that also needs python3 on PATH.</summary>
public sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        if (!UnixHandover.IsSupported)
        {
            Skip = "UnixHandover is Linux-only.";
        }
        else if (!OnPath("python3"))
        {
            Skip = "python3 is not on PATH.";
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, program)));
}
