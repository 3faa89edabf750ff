using Akka;
using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Contracts.Hosting;
using AkkaPortShare.Contracts.Registration;

namespace AkkaPortShare.Hosting.Tests.Hosting;

/// <summary>
/// <see cref="OutboundTlsFailureGuard"/> on a cluster member's actor system (Akka.Cluster adds its own shutdown
/// phases): the shutdown Akka.Remote starts for a failed outbound TLS handshake runs no phase and leaves the system
/// running, and the next shutdown, or any other, runs every phase. The reason is Akka.Remote's own type, made by
/// reflection (it is internal); the real handshake is in the integration spec OutboundTlsFailureSpec.
/// </summary>
public sealed class OutboundTlsFailureGuardSpec : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("akkaportshare", ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        """).WithFallback(RegistryProtocolConfig.Default()));

    private readonly List<string> _ranPhases = [];

    public OutboundTlsFailureGuardSpec()
    {
        var shutdown = CoordinatedShutdown.Get(_system);
        foreach (var phase in new[] { CoordinatedShutdown.PhaseBeforeServiceUnbind, CoordinatedShutdown.PhaseActorSystemTerminate })
            shutdown.AddTask(phase, "record", () =>
            {
                lock (_ranPhases) _ranPhases.Add(phase);
                return Task.FromResult(Done.Instance);
            });
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private static CoordinatedShutdown.Reason OutboundHandshakeFailed() => (CoordinatedShutdown.Reason)Activator.CreateInstance(
        typeof(Akka.Remote.RemoteSettings).Assembly.GetType("Akka.Remote.Transport.DotNetty.TlsHandshakeFailureReason", throwOnError: true)!,
        "TLS handshake failed on outbound connection to [127.0.0.1:9]")!;

    private sealed class Other : CoordinatedShutdown.Reason
    {
        public override int ExitCode => 69;
    }

    [Fact]
    public async Task The_shutdown_for_a_failed_outbound_TLS_handshake_runs_no_phase_and_the_next_shutdown_runs_them_all()
    {
        Assert.True(OutboundTlsFailureGuard.Install(_system));
        var shutdown = CoordinatedShutdown.Get(_system);

        for (var failure = 0; failure < 2; failure++) // re-armed after each stopped run
        {
            var stopped = shutdown.Run(OutboundHandshakeFailed());
            await Assert.ThrowsAnyAsync<Exception>(() => stopped.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Null(shutdown.ShutdownReason);
            Assert.Empty(_ranPhases);
            Assert.False(_system.WhenTerminated.IsCompleted);
        }

        await shutdown.Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([CoordinatedShutdown.PhaseBeforeServiceUnbind, CoordinatedShutdown.PhaseActorSystemTerminate], _ranPhases);
        await _system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Any_other_shutdown_passes_the_guard()
    {
        Assert.True(OutboundTlsFailureGuard.Install(_system));

        await CoordinatedShutdown.Get(_system).Run(new Other()).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal([CoordinatedShutdown.PhaseBeforeServiceUnbind, CoordinatedShutdown.PhaseActorSystemTerminate], _ranPhases);
        await _system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void The_guard_stays_off_without_TLS_and_its_phase_is_the_first()
    {
        Assert.False(OutboundTlsFailureGuard.InstallIfTls(_system)); // enable-ssl is off here
        var ordered = (List<string>)typeof(CoordinatedShutdown)
            .GetField("OrderedPhases", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!
            .GetValue(CoordinatedShutdown.Get(_system))!;
        Assert.Equal(OutboundTlsFailureGuard.Phase, ordered[0]);
    }
}
