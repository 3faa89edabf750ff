using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Event;
using AkkaPortShare.Interop;
using AkkaPortShare.Worker.Configuration;

namespace AkkaPortShare.Worker.Listening;

/// <summary>
/// The directory of hand-over sockets: made safe before any socket goes in (see <see cref="PrivateDirectory"/>), and
/// cleared of the sockets of workers that no longer run. Names are <c>worker-&lt;pid&gt;-&lt;guid&gt;.sock</c>, so a
/// socket's owner can be told from its name.
/// </summary>
internal static partial class HandoverDirectory
{
    public static string NewSocketPath(string directory) =>
        Path.Combine(directory, $"worker-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");

    /// <summary>Creates or checks the directory and removes stale sockets.</summary>
    /// <exception cref="UnsafeDirectoryException">The directory cannot be used; the message says why.</exception>
    public static void Prepare(WorkerSettings settings, ILoggingAdapter log)
    {
        PrivateDirectory.Ensure(settings.HandoverDirectory, settings.HandoverDirectoryMode);
        foreach (var stale in PrivateDirectory.RemoveStaleSockets(settings.HandoverDirectory, ProcessOf))
            log.Info("Removed the hand-over socket {0} of a worker that no longer runs", stale);
    }

    /// <summary>The pid a worker socket's name carries; null for any other name.</summary>
    public static int? ProcessOf(string fileName) =>
        SocketName().Match(fileName) is { Success: true } m
        && int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0
            ? pid
            : null;

    [GeneratedRegex("^worker-([0-9]{1,10})-[0-9a-f]{32}\\.sock$")]
    private static partial Regex SocketName();
}
