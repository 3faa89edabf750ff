using System.Diagnostics;
using System.Net.Sockets;
using AkkaPortShare.TestSupport.Fuzz.Live;
using AkkaPortShare.IntegrationTests.Harness;
using AkkaPortShare.Contracts.Registration;
using Xunit.Abstractions;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>
/// Registrants that try to make the registry wait (issue 10): a hand-over socket that never accepts stalls only
/// its own admission, which is refused within admission-timeout, while every registered address keeps being
/// routed at its usual latency; and a registration for a port nobody listens on is refused with NotListening.
/// The attacker is an actor system in the test process configured like a worker.
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class AdmissionAttackSpec(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan AdmissionTimeout = TimeSpan.FromSeconds(1);
    private const int MaxConcurrentAdmissions = 4;
    // Short phases, many rounds: on a shared machine load comes and goes, and must weigh on both sides alike.
    private static readonly TimeSpan MeasureFor = TimeSpan.FromSeconds(1.25);
    private const int Rounds = 4;
    private const int MaxSamples = 3000;

    private readonly string _directory = Directory.CreateTempSubdirectory("aps-admission-").FullName;
    private readonly List<Socket> _sockets = [];

    [Fact]
    public async Task A_handover_socket_that_never_accepts_is_refused_within_admission_timeout_while_others_are_routed_at_their_usual_p99()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync(extraHocon: $$"""
            akka-port-share.router {
              admission-timeout = {{AdmissionTimeout.TotalMilliseconds}}ms
              max-concurrent-admissions = {{MaxConcurrentAdmissions}}
            }
            """);
        await host.StartWorkerAsync("echo", "echo/");
        await MeasureAsync(host, TimeSpan.FromSeconds(1)); // warm-up: JIT, connection paths
        using var attacker = new ForeignRegistrant(host.RouterAddress);
        attacker.Register(new Register(host.Address("warm-up/"), Endpoint("/nonexistent/none.sock"))); // remoting association
        await attacker.WaitForAsync<RegistrationRefused>(_ => true, TimeSpan.FromSeconds(10));

        // Rounds of without / with the attack, so that what else loads this machine weighs on both alike.
        var unattacked = new List<TimeSpan>();
        var attacked = new List<TimeSpan>();
        TimeSpan? firstSent = null;
        for (var round = 0; round < Rounds; round++)
        {
            unattacked.AddRange(await MeasureAsync(host, MeasureFor));

            attacker.Insist = true;
            firstSent ??= attacker.Now;
            var startedBefore = attacker.Answers.Count(a => a.Message is AdmissionStarted);
            for (var i = 0; i < MaxConcurrentAdmissions; i++)
                attacker.RegisterInsistently(new Register(host.Address($"stalled{round}-{i}/"), Endpoint(StalledHandoverPath())));
            await attacker.WaitForAsync<AdmissionStarted>(_ => attacker.Answers.Count(a => a.Message is AdmissionStarted)
                >= startedBefore + MaxConcurrentAdmissions, TimeSpan.FromSeconds(10));
            // Every admission slot is taken by a stalled check now: one more registrant is refused at once.
            attacker.Register(new Register(host.Address($"one-too-many{round}/"), Endpoint(StalledHandoverPath())));
            attacked.AddRange(await MeasureAsync(host, MeasureFor));

            attacker.Insist = false;
            await Task.Delay(AdmissionTimeout + TimeSpan.FromMilliseconds(300)); // the last stalled checks end
        }

        var refusals = attacker.Answers.Where(a => a.Message is RegistrationRefused).ToList();
        var timedOut = refusals.Where(a => ((RegistrationRefused)a.Message).Message.Contains("admission-timeout")).ToList();
        var attackStarted = firstSent!.Value;
        var busy = refusals.Select(a => (RegistrationRefused)a.Message).FirstOrDefault(r => r.BaseAddress.Contains("one-too-many"));
        var (p99Before, p99During) = (Percentiles.Of(unattacked, 99), Percentiles.Of(attacked, 99));
        output.WriteLine($"legitimate sessions without the attack: {Percentiles.Summary(unattacked)}");
        output.WriteLine($"legitimate sessions during the attack:  {Percentiles.Summary(attacked)}");
        output.WriteLine($"p99 {Percentiles.Ms(p99Before)} -> {Percentiles.Ms(p99During)}; {timedOut.Count} stalled admissions refused, " +
                         $"the first after {(timedOut.Min(a => a.At) - attackStarted).TotalMilliseconds:F0} ms");
        output.WriteLine(await host.Router!.WaitForLineAsync("Refused registration of .*HandoverUnavailable.*admission-timeout", TimeSpan.FromSeconds(5)));

        Assert.All(refusals.Skip(1), r => Assert.Equal(RefusalReason.HandoverUnavailable, ((RegistrationRefused)r.Message).Reason));
        Assert.True(timedOut.Count >= Rounds * MaxConcurrentAdmissions, $"only {timedOut.Count} stalled admissions were refused");
        Assert.InRange(timedOut.Min(a => a.At) - attackStarted, TimeSpan.Zero, AdmissionTimeout + TimeSpan.FromSeconds(1.5));
        Assert.NotNull(busy);
        Assert.Contains("max-concurrent-admissions", busy.Message);
        Assert.True(attacked.Count > 100, $"only {attacked.Count} legitimate sessions during the attack");
        // The aim is 2x (README: 18.8 -> 19.5 ms on a quiet machine). The floor absorbs a loaded 2-core CI machine,
        // where one scheduling hiccup moves a p99 of ~30 ms by tens of ms; a registry that waited for the stalled
        // check would add admission-timeout (1 s) to the requests behind it, far past it.
        Assert.True(p99During <= 2 * p99Before + TimeSpan.FromMilliseconds(25),
            $"p99 {Percentiles.Ms(p99Before)} without the attack, {Percentiles.Ms(p99During)} with it");
    }

    [Fact]
    public async Task A_registration_for_a_port_nobody_listens_on_is_refused_with_NotListening_naming_the_routers_end_point()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        var elsewhere = FreePort.Next();

        using var worker = host.StartWorkerAs("wrong-port", null, ["--address", $"net.tcp://+:{elsewhere}/x/"]);

        var refusal = await worker.WaitForLineAsync("Registration of .* refused", TimeSpan.FromSeconds(60));
        output.WriteLine(refusal);
        Assert.Contains("NotListening", refusal);
        Assert.Contains($"127.0.0.1:{host.Port}", refusal);
        Assert.Contains($"port {elsewhere}", refusal);
        output.WriteLine(await host.Router!.WaitForLineAsync("Refused registration of .*NotListening", TimeSpan.FromSeconds(5)));
    }

    private static WorkerEndpoint Endpoint(string handoverPath) =>
        new(Environment.ProcessId, "localhost", handoverPath, "127.0.0.1", 1);

    /// <summary>connect → PreambleAck → one call, closed: what one legitimate session costs, each in turn.</summary>
    private static async Task<List<TimeSpan>> MeasureAsync(PortShareHost host, TimeSpan duration)
    {
        var samples = new List<TimeSpan>();
        var until = Stopwatch.StartNew();
        while (until.Elapsed < duration && samples.Count < MaxSamples)
        {
            var one = Stopwatch.StartNew();
            using (var client = await FramingClient.ConnectAsync(host.Port))
            {
                Assert.Null(await client.OpenAsync(host.Via("echo/svc")));
                Assert.Equal("echo", await client.CallAsync("whoami"));
            }
            samples.Add(one.Elapsed);
        }
        return samples;
    }

    /// <summary>A SOCK_SEQPACKET listener that never accepts, its backlog filled: a connect to it cannot complete.</summary>
    private string StalledHandoverPath()
    {
        var path = Path.Combine(_directory, $"s-{Guid.NewGuid():N}.sock");
        var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        _sockets.Add(listener);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        for (var filled = 0; filled < 64; filled++)
        {
            var filler = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified) { Blocking = false };
            _sockets.Add(filler);
            try
            {
                filler.Connect(new UnixDomainSocketEndPoint(path));
            }
            catch (SocketException) when (filled > 0)
            {
                return path;
            }
        }
        throw new InvalidOperationException("the listener's backlog never filled");
    }

    public void Dispose()
    {
        foreach (var socket in _sockets) socket.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
