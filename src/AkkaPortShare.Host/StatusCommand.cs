using System.Text;
using System.Text.Json;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Interop;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Control;

namespace AkkaPortShare.Host;

/// <summary><c>akkaportshare status</c>: asks the running router, through its control socket, for its registrations
/// and counters, and prints them (or its JSON answer).</summary>
internal static class StatusCommand
{
    private const int Unavailable = 69;

    public static async Task<int> RunAsync(CommandLine commandLine)
    {
        RouterSettings settings;
        try
        {
            var config = commandLine.ConfigFile is { } file ? ConfigurationFactory.ParseString(File.ReadAllText(file.FullName)) : Config.Empty;
            settings = RouterSettings.Create(config);
        }
        catch (Exception e) when (e is SettingsException or ConfigurationException)
        {
            Console.Error.WriteLine(e.Message);
            return SettingsException.ExitCode;
        }

        var candidates = commandLine.SocketPath is { } explicitPath ? [explicitPath] : ControlSocketPath.Candidates(settings, settings.Port);
        using var control = ControlClient.Connect(candidates, out var path);
        if (control is null)
        {
            Console.Error.WriteLine(candidates.Count == 0
                ? "No control socket: akka-port-share.router.control-socket is off."
                : $"No router answers on {string.Join(", ", candidates)} (is it running, with these settings, as this user or root? --socket names another place).");
            return Unavailable;
        }
        try
        {
            var report = await ControlClient.StatusAsync(control, TimeSpan.FromSeconds(15));
            Console.Out.Write(commandLine.Json
                ? JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }) + "\n"
                : Format(report));
            return 0;
        }
        catch (Exception e) when (e is ControlException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            Console.Error.WriteLine($"The router on {path} did not answer: {e.Message}");
            return Unavailable;
        }
    }

    /// <summary>The report as an operator reads it: who, where, health, then one line per registration and counter.</summary>
    public static string Format(RouterStatusReport report)
    {
        var text = new StringBuilder();
        var up = DateTimeOffset.UtcNow - report.StartedAt;
        text.AppendLine($"akkaportshare {report.Version}, pid {report.ProcessId}{User(report.UserId)}, up {up:d\\.hh\\:mm\\:ss}");
        text.AppendLine($"Listening on {report.ListenEndPoint}: {(report.Accepting ? "accepting" : "not accepting (draining)")}, " +
            $"{report.PendingConnections} connection(s) waiting for their preamble");
        foreach (var (check, result) in report.Health.OrderBy(h => h.Key, StringComparer.Ordinal))
            text.AppendLine($"Health {check}: {result}");

        text.AppendLine().AppendLine($"Registrations ({report.Registrations.Count})");
        var rows = report.Registrations.OrderBy(r => r.BaseAddress, StringComparer.Ordinal)
            .Select(r => new[] { r.BaseAddress, r.ProcessId.ToString(), r.UserId is { } uid ? UnixUsers.Describe(uid) : "(by secret)",
                r.HandoverMode, r.ConnectionsRouted.ToString() })
            .Prepend(["ADDRESS", "PID", "USER", "MODE", "ROUTED"]).ToList();
        var widths = Enumerable.Range(0, 5).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
            text.AppendLine("  " + string.Join("  ", row.Select((cell, i) => i == 4 ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd());

        var c = report.Counters;
        text.AppendLine().AppendLine("Counters (since the router started)");
        foreach (var (name, value) in new (string, long)[]
                 {
                     ("connections.accepted", c.ConnectionsAccepted), ("connections.dispatched", c.ConnectionsDispatched),
                     ("dispatch.failures", c.DispatchFailures), ("protocol.failures", c.ProtocolFailures),
                     ("connections.shed", c.ConnectionsShed), ("registrations.active", c.RegistrationsActive),
                     ("uris.registered", c.UrisRegistered), ("uris.unregistered", c.UrisUnregistered),
                 })
            text.AppendLine($"  {name,-40}{value,10}");
        foreach (var (stage, count) in c.ConnectionsHeld.OrderBy(h => h.Key, StringComparer.Ordinal))
            text.AppendLine($"  {"connections.held " + stage,-40}{count,10}");
        return text.ToString();
    }

    private static string User(uint? userId) => userId is { } uid ? $", user {UnixUsers.Describe(uid)}" : "";
}
