using Akka.Actor;
using AkkaPortShare.Contracts.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AkkaPortShare.TestSupport.Hosting;

/// <summary>
/// A generic host that is expected to refuse its own start (bad options): it starts without throwing, then stops
/// itself through <see cref="ProcessExit"/>. What the router's and the worker's hosting specs both observe.
/// </summary>
public static class SelfStoppingHost
{
    /// <summary>
    /// Starts <paramref name="host"/>, waits up to 10 s for it to begin stopping, and returns the process exit code it
    /// set and the cause it gave (<see cref="ProcessExit.Failed"/>), or nulls when it did not stop. The test process's
    /// own exit code is restored.
    /// </summary>
    public static async Task<(int? ExitCode, string? Cause)> StartAndAwaitStopAsync(IHost host)
    {
        var before = Environment.ExitCode;
        try
        {
            var stopping = new TaskCompletionSource();
            host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());
            await host.StartAsync(); // does not throw: the refusal is an orderly stop
            if (await Task.WhenAny(stopping.Task, Task.Delay(TimeSpan.FromSeconds(10))) != stopping.Task) return (null, null);
            var exitCode = Environment.ExitCode;
            var reason = CoordinatedShutdown.Get(host.Services.GetRequiredService<ActorSystem>()).ShutdownReason;
            await host.StopAsync();
            return (exitCode, (reason as ProcessExit.Failed)?.Cause);
        }
        finally
        {
            Environment.ExitCode = before;
        }
    }
}
