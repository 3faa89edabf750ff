using System.Text.Json;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.Operations;

/// <summary>
/// One log pipeline: Akka's lines and .NET's go through Microsoft.Extensions.Logging, so one format setting and one
/// level setting apply to all of them.
/// </summary>
public sealed class LoggingSpec
{
    [Fact]
    public async Task One_setting_turns_every_line_of_the_router_into_JSON_with_the_logging_class_as_category()
    {
        var port = FreePort.Next();
        using var router = ManagedProcess.StartDllAs("router", null,
            new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "json" }, Binaries.Router,
            "--config", WriteConfig(port));
        await router.WaitForLineAsync("Listening on", TimeSpan.FromSeconds(60));
        await router.WaitForLineAsync("Workers may register", TimeSpan.FromSeconds(30));

        var lines = router.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var entries = lines.Select(line => JsonDocument.Parse(line).RootElement).ToList(); // every line is JSON
        var listening = entries.Single(e => e.GetProperty("Message").GetString()!.Contains("Listening on"));
        Assert.Equal("AkkaPortShare.Router.Listening.ListenerActor", listening.GetProperty("Category").GetString());
        Assert.EndsWith("/user/port-share-listener", listening.GetProperty("State").GetProperty("ActorPath").GetString());
        Assert.Contains(entries, e => e.GetProperty("Category").GetString() == "Akka"); // Akka's own (remoting)
        Assert.Contains(entries, e => e.GetProperty("Category").GetString() == "Microsoft.Hosting.Lifetime");
    }

    [Fact]
    public async Task One_level_setting_governs_Akkas_lines_and_ours()
    {
        var port = FreePort.Next();
        using var quiet = ManagedProcess.StartDllAs("router-warnings", null,
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" }, Binaries.Router,
            "--config", WriteConfig(port));
        using var verbose = ManagedProcess.StartDllAs("router-debug", null,
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Debug" }, Binaries.Router,
            "--config", WriteConfig(FreePort.Next()));
        await verbose.WaitForLineAsync("dbug: Akka\\[0\\]", TimeSpan.FromSeconds(60)); // Akka's own debug lines (remoting)
        await verbose.WaitForLineAsync("Listening on", TimeSpan.FromSeconds(30));
        // The quiet router is up once its port answers; by then it would have logged "Listening on" at Information.
        await WaitUntilListeningAsync(port);

        Assert.Equal(0, quiet.CountLines("info:|dbug:"));
        Assert.Equal(0, quiet.CountLines("Listening on"));
    }

    private static async Task WaitUntilListeningAsync(int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static string WriteConfig(int port)
    {
        var file = Path.Combine(Path.GetTempPath(), $"aps-logging-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, $"akka-port-share.router {{ port = {port}, listen-address = \"127.0.0.1\" }}\nakka.remote.dot-netty.tcp.port = 0\n");
        return file;
    }
}
