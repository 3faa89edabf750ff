using AkkaPortShare.Interop;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Control;
using AkkaPortShare.Router.Hosting;

namespace AkkaPortShare.Host;

/// <summary>
/// <c>akkaportshare --takeover</c>: a restart without systemd that refuses nothing, as HAProxy's seamless reload.
/// The running router hands its listening socket over its control socket and drains; this process waits until it
/// has exited (its remoting port is then free) and starts on the same socket, whose backlog kept every connection
/// made meanwhile.
/// </summary>
internal static class Takeover
{
    // How often the previous router's pid is looked at while it exits: a liveness poll of a process that is
    // already shutting down, not a tunable (takeover-exit-timeout bounds the wait).
    private const int ExitPollMilliseconds = 20;

    /// <summary>The previous router's socket, or null when no router answers (the port is then opened as usual).</summary>
    /// <exception cref="CannotListenException">The router refused, or did not exit in time.</exception>
    public static SharedPort? TakeListener(RouterSettings settings)
    {
        var candidates = ControlSocketPath.Candidates(settings, settings.Port);
        using var control = ControlClient.Connect(candidates, out var path);
        if (control is null)
        {
            Console.Error.WriteLine($"--takeover: no router answers on {string.Join(", ", candidates)}; opening the port");
            return null;
        }
        System.Net.Sockets.Socket listener;
        ListenerHandedOver answer;
        try
        {
            (listener, answer) = ControlClient.TakeListener(control, settings.TakeoverReplyTimeout);
        }
        catch (Exception e) when (e is ControlException or System.Net.Sockets.SocketException or OperationCanceledException or IOException)
        {
            throw new CannotListenException($"--takeover: the router on {path} did not hand its listening socket over: {e.Message}",
                CannotListenException.Unavailable, e);
        }
        Console.Error.WriteLine($"--takeover: took {answer.ListenEndPoint} from pid {answer.ProcessId}; waiting for it to drain and exit");

        // Its drain (drain-timeout) and the rest of its coordinated shutdown; the remoting port is ours after that.
        var allowed = settings.DrainTimeout + settings.TakeoverExitTimeout;
        var deadline = DateTime.UtcNow + allowed;
        while (UnixProcesses.IsRunning(answer.ProcessId))
        {
            if (DateTime.UtcNow > deadline)
            {
                listener.Dispose();
                throw new CannotListenException(
                    $"--takeover: the previous router (pid {answer.ProcessId}) has not exited {allowed} " +
                    $"after handing its listening socket over (drain-timeout + takeover-exit-timeout {settings.TakeoverExitTimeout}); " +
                    "stop it, then start this one again.",
                    CannotListenException.Unavailable);
            }
            Thread.Sleep(ExitPollMilliseconds);
        }
        return SharedPort.TakenOver(listener, settings);
    }
}
