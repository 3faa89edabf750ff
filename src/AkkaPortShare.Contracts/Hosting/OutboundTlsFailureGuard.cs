using System.Reflection;
using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Util;

namespace AkkaPortShare.Contracts.Hosting;

/// <summary>
/// Keeps a router or worker running when a TLS handshake that its Akka.Remote started fails.
/// <para>
/// Akka.Remote 1.5 (DotNetty transport, TcpHandlers.UserEventTriggered) runs CoordinatedShutdown, exit 79, on every
/// failed outbound handshake, whatever the cause: a peer that closes mid-handshake because it is dying, leaving or
/// being downed, or a listener a local user opened on a dead member's port. One such connection ended a healthy
/// router. A failed inbound handshake only closes that connection (akka.net #7939); this guard gives the outbound
/// side the same answer: the connection closes, the association fails, Akka.Remote gates and retries the peer, and
/// its Error line says why.
/// </para>
/// <para>
/// How: <see cref="Phase"/> runs before every other phase of a shutdown and does not recover, so when its task fails
/// no further phase runs. The task fails only for Akka.Remote's TlsHandshakeFailureReason. CoordinatedShutdown runs
/// once per actor system, so the guard then re-arms it (two private fields) and a later SIGTERM, downing or
/// configuration exit shuts down as usual. The fields are looked up once, at start: with an Akka version that lacks
/// them the guard says so and stays off (Akka's behaviour, exit 79).
/// </para>
/// </summary>
internal static class OutboundTlsFailureGuard
{
    /// <summary>The first shutdown phase (remoting.conf makes before-service-unbind depend on it).</summary>
    public const string Phase = "port-share-outbound-tls-guard";

    private const string FailureReason = "Akka.Remote.Transport.DotNetty.TlsHandshakeFailureReason";

    /// <summary>Installs the guard when this actor system's remoting uses TLS; returns whether it did.</summary>
    public static bool InstallIfTls(ActorSystem system) =>
        system.Settings.Config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl", false) && Install(system);

    public static bool Install(ActorSystem system)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        var log = Logging.GetLogger(system, typeof(OutboundTlsFailureGuard));
        if (Rearm.For(shutdown) is not { } rearm)
        {
            log.Warning("This Akka version's CoordinatedShutdown is not the one the outbound TLS guard knows (Akka 1.5.74), " +
                "or {0} is not its first phase: a failed outbound Akka.Remote TLS handshake ends this process (exit 79)", Phase);
            return false;
        }
        shutdown.AddTask(Phase, "keep-running-on-outbound-tls-failure", () =>
        {
            var reason = shutdown.ShutdownReason;
            if (reason?.GetType().FullName != FailureReason) return Task.FromResult(Done.Instance);
            log.Warning("Not shutting down for Akka.Remote's \"{0}\": the connection is closed and the peer is retried " +
                "(a peer that is going away, or something else listening on its port, must not end this process)", reason);
            rearm.AfterThisRun();
            return Task.FromException<Done>(new OutboundTlsFailureIgnored());
        });
        return true;
    }

    private sealed class OutboundTlsFailureIgnored() : Exception("the shutdown for a failed outbound TLS handshake was stopped");

    /// <summary>Puts CoordinatedShutdown back in its not-run state once a stopped run has completed.</summary>
    private sealed class Rearm(CoordinatedShutdown shutdown, FieldInfo runStarted, FieldInfo runPromise)
    {
        private const BindingFlags Private = BindingFlags.Instance | BindingFlags.NonPublic;

        public static Rearm? For(CoordinatedShutdown shutdown)
        {
            var type = typeof(CoordinatedShutdown);
            var runStarted = type.GetField("_runStarted", Private);
            var runPromise = type.GetField("_runPromise", Private);
            var ordered = type.GetField("OrderedPhases", Private);
            if (runStarted?.FieldType != typeof(AtomicReference<CoordinatedShutdown.Reason>)
                || runPromise?.FieldType != typeof(TaskCompletionSource<Done>)
                || ordered?.GetValue(shutdown) is not List<string> phases || phases.FirstOrDefault() != Phase)
                return null;
            return new Rearm(shutdown, runStarted, runPromise);
        }

        // The run's promise completes (faulted) in a continuation of the phases; replacing it earlier would let that
        // continuation complete the new one. Continuations of the promise run synchronously (it was made without
        // RunContinuationsAsynchronously), so the not-run state returns as soon as the stopped run has ended: a
        // genuine shutdown requested before that (the few continuations of the phase loop, microseconds to a
        // thread-pool hop) is answered with the stopped run and must be requested again (see README, Cluster).
        // The run is cleared before the promise is replaced: a Run landing between the two then starts for real
        // (its completion finds the new promise); the other order would leave it waiting on a promise nobody completes.
        public void AfterThisRun()
        {
            var stopped = (TaskCompletionSource<Done>)runPromise.GetValue(shutdown)!;
            stopped.Task.ContinueWith(t =>
            {
                _ = t.Exception; // observed: the stopped run is no failure
                ((AtomicReference<CoordinatedShutdown.Reason>)runStarted.GetValue(shutdown)!).Value = null!;
                runPromise.SetValue(shutdown, new TaskCompletionSource<Done>());
            }, TaskContinuationOptions.ExecuteSynchronously);
        }
    }
}
