using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Interop;
using AkkaPortShare.Worker.Configuration;
using AkkaPortShare.Worker.Registration;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Worker.FramingSession;
using static AkkaPortShare.Worker.WorkerProtocol;

namespace AkkaPortShare.Worker.Tests.Registration;

/// <summary>
/// A worker's presence at the router. The worker finds the registry by ActorSelection at
/// <c>{router}/user/port-share-registry</c>; here the router is this test system itself and that path holds a
/// forwarder to a probe, so the probe sees every Register with the worker as its sender.
/// </summary>
public sealed partial class WorkerActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string SystemName = "WorkerActorSpec";

    private const string Config = $$"""
        akka.actor.provider = local
        akka-port-share.worker {
          router = "akka://{{SystemName}}"
          receive-timeout = 2s
          registration-retry {
            min-backoff = 100ms
            max-backoff = 400ms
          }
        }
        """;

    private const string EchoAddress = "net.tcp://+:8808/echo/";
    private const string OtherAddress = "net.tcp://+:8808/other/";

    private readonly string _handoverDirectory = Path.Combine(Path.GetTempPath(), $"aps-worker-spec-{Guid.NewGuid():N}");
    private readonly TestProbe _registry;

    /// <summary>Gets (exit code, cause) where the worker would end its process (never this test system).</summary>
    private readonly TestProbe _exits;
    private IActorRef _registryForwarder;
    private readonly List<IDisposable> _disposables = [];

    public WorkerActorSpec() : base(Config, SystemName)
    {
        _registry = CreateTestProbe("registry");
        _exits = CreateTestProbe("exits");
        _registryForwarder = StartRegistryForwarder();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing); // stops the worker: it closes its listeners and deletes its socket file
        foreach (var d in _disposables)
        {
            try { d.Dispose(); } catch { /* already gone */ }
        }
        try { Directory.Delete(_handoverDirectory, recursive: true); } catch { /* never created */ }
    }

    /// <summary>A service actor: reports what it receives and its restarts to a probe; "boom" makes it throw.</summary>
    private sealed class ServiceStub : ReceiveActor
    {
        private readonly IActorRef _probe;

        public ServiceStub(IActorRef probe)
        {
            _probe = probe;
            Receive<string>(s => s == "boom", _ => throw new InvalidOperationException("boom"));
            // It takes every session (and so sees its messages), as a real service would.
            Receive<SessionOpened>(o =>
            {
                o.Session.Tell(new Accept(Self));
                probe.Forward(o);
            });
            ReceiveAny(m => probe.Forward(m));
        }

        protected override void PostRestart(Exception reason)
        {
            _probe.Tell("restarted");
            base.PostRestart(reason);
        }
    }

    /// <summary>Drops Register messages a retry timer sent before the answer was handled.</summary>
    private async Task DrainRegistersAsync()
    {
        while (await _registry.ReceiveOneAsync(TimeSpan.FromMilliseconds(150)) is Register) { }
    }

    /// <summary>Forwards (keeping the sender) whatever reaches the registry's path to the registry probe.</summary>
    private IActorRef StartRegistryForwarder() => Sys.ActorOf(Forwarder.Props(_registry.Ref), "port-share-registry");

    private WorkerSettings Settings(string? overrides = null) =>
        WorkerSettings.Create(ConfigurationFactory
            .ParseString($"akka-port-share.worker.handover-directory = \"{_handoverDirectory}\"\n{overrides}")
            .WithFallback(Sys.Settings.Config));

    private IActorRef StartWorker(IReadOnlyList<string> addresses, TestProbe? service = null, WorkerSettings? settings = null)
    {
        var serviceRef = (service ?? CreateTestProbe()).Ref;
        var services = addresses.Select(a => (a, Props.Create(() => new ServiceStub(serviceRef)))).ToList();
        var exits = _exits.Ref;
        return Sys.ActorOf(WorkerActor.Props(settings ?? Settings(), services, (_, code, cause) => exits.Tell((code, cause))), "worker");
    }

    /// <summary>What the registry says before it connects: this process (the test) is the router.</summary>
    private void AnnounceRouter(IActorRef worker, string address = EchoAddress, int? processId = null) =>
        worker.Tell(new AdmissionStarted(address, processId ?? Environment.ProcessId, UnixHandover.CurrentUserId), _registryForwarder);

    private static Task<WorkerStatus> StatusAsync(IActorRef worker) =>
        worker.Ask<WorkerStatus>(GetStatus.Instance, TimeSpan.FromSeconds(3));

    private static async Task<AddressStatus> StatusOfAsync(IActorRef worker, string address) =>
        (await StatusAsync(worker)).Addresses.Single(a => a.BaseAddress == address);

    private async Task<Register> ExpectRegisterAsync(string? address = null)
    {
        var register = await _registry.ExpectMsgAsync<Register>(TimeSpan.FromSeconds(3));
        if (address is not null) Assert.Equal(address, register.BaseAddress);
        return register;
    }

    [Fact]
    public async Task WorkerActor_must_register_each_configured_address_with_its_endpoint()
    {
        var worker = StartWorker([EchoAddress, OtherAddress]);

        var first = await ExpectRegisterAsync();
        var firstSender = _registry.LastSender;
        var second = await ExpectRegisterAsync();

        Assert.Equal(new[] { EchoAddress, OtherAddress }.Order(), new[] { first.BaseAddress, second.BaseAddress }.Order());
        Assert.Equal(worker, firstSender); // the sender is the worker's identity at the registry
        var status = await StatusAsync(worker);
        Assert.Equal(first.Worker, second.Worker);
        Assert.Equal(Environment.ProcessId, first.Worker.ProcessId);
        Assert.Equal(status.DataPort, first.Worker.DataPort);
        Assert.Equal("127.0.0.1", first.Worker.DataHost);
        Assert.NotEqual(0, status.DataPort);
        Assert.Equal(status.HandoverPath, first.Worker.HandoverPath);
        Assert.NotNull(status.HandoverPath);
        Assert.StartsWith(_handoverDirectory, status.HandoverPath);
        Assert.True(File.Exists(status.HandoverPath));
        Assert.All(status.Addresses, a => Assert.Equal(RegistrationState.Pending, a.State));
    }

    [Fact]
    public async Task WorkerActor_must_show_Registered_once_the_registry_answers_and_stop_retrying()
    {
        var worker = StartWorker([EchoAddress, OtherAddress]);
        for (var i = 0; i < 2; i++)
        {
            var register = await ExpectRegisterAsync();
            _registry.Reply(new Registered(register.BaseAddress, "fd"));
        }

        await AwaitAssertAsync(async () =>
        {
            var status = await StatusAsync(worker);
            Assert.All(status.Addresses, a => Assert.Equal((RegistrationState.Registered, "fd"), (a.State, a.Detail)));
        }, TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));

        // A retry already under way may still arrive; after it, nothing more (well past max-backoff).
        await DrainRegistersAsync();
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(800));
    }

    [Fact]
    public async Task WorkerActor_must_send_Register_again_with_back_off_while_unanswered()
    {
        var worker = StartWorker([EchoAddress]);
        var clock = Stopwatch.StartNew();
        var times = new List<TimeSpan>();

        for (var i = 0; i < 5; i++)
        {
            await ExpectRegisterAsync(EchoAddress);
            times.Add(clock.Elapsed);
        }

        // Back-off doubles from 100 ms to the 400 ms maximum: 100, 200, 400, 400. Timers never fire early, so the
        // lower bounds are safe; the tolerance covers delivery jitter of the previous message.
        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).ToList();
        Assert.True(gaps[1] >= TimeSpan.FromMilliseconds(120), $"second retry after {gaps[1]}");
        Assert.True(gaps[2] >= TimeSpan.FromMilliseconds(250), $"third retry after {gaps[2]}");
        Assert.True(gaps[3] >= TimeSpan.FromMilliseconds(250), $"fourth retry after {gaps[3]}");
        Assert.True(gaps[3] < TimeSpan.FromMilliseconds(1500), $"max-backoff 400 ms, but waited {gaps[3]}");
        Assert.Equal(RegistrationState.Pending, (await StatusOfAsync(worker, EchoAddress)).State);
    }

    [Fact]
    public async Task WorkerActor_must_mark_a_refused_address_Refused_and_stop_retrying_it_when_refusals_do_not_end_it()
    {
        // Retries 1 s apart: the refusal is handled long before the first retry.
        var worker = StartWorker([EchoAddress, OtherAddress], settings: Settings("""
            akka-port-share.worker.registration-retry { min-backoff = 1s, max-backoff = 1s }
            akka-port-share.worker.exit-on-refusal = off
            """));
        await ExpectRegisterAsync();
        await ExpectRegisterAsync();

        worker.Tell(new RegistrationRefused(EchoAddress, RefusalReason.AddressAlreadyInUse, "Address already in use: by pid 1"),
            _registryForwarder);

        var refused = await StatusOfAsync(worker, EchoAddress);
        Assert.Equal(RegistrationState.Refused, refused.State);
        Assert.Equal("AddressAlreadyInUse: Address already in use: by pid 1", refused.Detail);
        // Only the unanswered address is retried.
        Assert.Equal(OtherAddress, (await ExpectRegisterAsync()).BaseAddress);
        Assert.Equal(OtherAddress, (await ExpectRegisterAsync()).BaseAddress);
        Assert.Equal(RegistrationState.Refused, (await StatusOfAsync(worker, EchoAddress)).State);
        await _exits.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task WorkerActor_must_keep_registering_an_address_whose_handover_check_could_not_be_made_now()
    {
        // Whoever fills the router's admission slots must not keep a real worker out for good.
        var worker = StartWorker([EchoAddress], settings: Settings("""
            akka-port-share.worker.registration-retry { min-backoff = 300ms, max-backoff = 300ms }
            """));
        await ExpectRegisterAsync(EchoAddress);

        worker.Tell(new RegistrationRefused(EchoAddress, RefusalReason.HandoverUnavailable,
            "4 hand-over socket checks are in flight (max-concurrent-admissions); register again later."), _registryForwarder);

        Assert.Equal(RegistrationState.Pending, (await StatusOfAsync(worker, EchoAddress)).State);
        Assert.Equal(EchoAddress, (await ExpectRegisterAsync()).BaseAddress);
        Assert.Equal(EchoAddress, (await ExpectRegisterAsync()).BaseAddress);
        await _exits.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // not a refusal that ends the worker
    }

    [Fact]
    public async Task WorkerActor_must_register_again_when_the_association_with_the_router_ends()
    {
        var worker = StartWorker([EchoAddress]);
        await ExpectRegisterAsync(EchoAddress);
        worker.Tell(new Registered(EchoAddress, "fd"), _registryForwarder);
        await AwaitAssertAsync(async () =>
            Assert.Equal(RegistrationState.Registered, (await StatusOfAsync(worker, EchoAddress)).State),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));
        await DrainRegistersAsync();

        // The router restarts: its process (and so the association) ends, and a new registry appears at the same
        // path. The worker cannot watch the registry (the router refuses remote system messages, Watch included):
        // Akka.Remote's DisassociatedEvent is what tells it.
        Watch(_registryForwarder);
        Sys.Stop(_registryForwarder);
        await ExpectTerminatedAsync(_registryForwarder);
        var address = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
        Sys.EventStream.Publish(new Akka.Remote.DisassociatedEvent(address, address, inbound: false)); // the router is this system
        await AwaitAssertAsync(async () =>
            Assert.Equal(RegistrationState.Pending, (await StatusOfAsync(worker, EchoAddress)).State),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));
        await AwaitAssertAsync(() => _registryForwarder = StartRegistryForwarder(),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));

        await ExpectRegisterAsync(EchoAddress);
        worker.Tell(new Registered(EchoAddress, "relay"), _registryForwarder);
        await AwaitAssertAsync(async () =>
            Assert.Equal((RegistrationState.Registered, "relay"),
                ((await StatusOfAsync(worker, EchoAddress)).State, (await StatusOfAsync(worker, EchoAddress)).Detail)),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));
    }

    [Fact]
    public async Task WorkerActor_must_ignore_answers_about_addresses_it_never_asked_for()
    {
        var worker = StartWorker([EchoAddress]);
        await ExpectRegisterAsync(EchoAddress);

        worker.Tell(new Registered("net.tcp://+:8808/stranger/", "fd"), _registryForwarder);
        worker.Tell(new RegistrationRefused("net.tcp://+:8808/stranger/", RefusalReason.NotOwner, "no"), _registryForwarder);

        var status = await StatusAsync(worker);
        Assert.Equal(EchoAddress, Assert.Single(status.Addresses).BaseAddress);
        Assert.Equal(RegistrationState.Pending, status.Addresses[0].State);
    }

    [Fact]
    public async Task WorkerActor_must_serve_a_connection_on_its_own_data_port()
    {
        var service = CreateTestProbe("service");
        var worker = StartWorker([EchoAddress], service);
        var status = await StatusAsync(worker);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(Loopback.IoTimeout);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, status.DataPort), cts.Token);

        await Loopback.SendAsync(client, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/echo/x"));

        Assert.Equal(new byte[] { 0x0B }, await Loopback.ReadExactlyAsync(client, 1));
        Assert.Equal("net.tcp://localhost:8808/echo/x", (await service.ExpectMsgAsync<SessionOpened>()).Via);
    }

    [Fact]
    public async Task WorkerActor_must_serve_a_socket_the_router_passes_through_its_handover_path()
    {
        var service = CreateTestProbe("service");
        var worker = StartWorker([EchoAddress], service);
        var status = await StatusAsync(worker);
        AnnounceRouter(worker);
        var routerEnd = UnixHandover.Connect(status.HandoverPath!);
        _disposables.Add(routerEnd);
        var (server, client) = await Loopback.ConnectedPairAsync();
        _disposables.Add(client);
        var preamble = FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/echo/x");

        // What the router's gateway does: the frame holds the bytes already read; the socket rides along.
        var frame = new byte[preamble.Length + 1];
        var length = HandoverFrame.Write(frame, preamble);
        UnixHandover.Send(routerEnd, frame.AsSpan(0, length), server);
        UnixHandover.ReleaseAfterHandover(server);

        Assert.Equal(new byte[] { 0x0B }, await Loopback.ReadExactlyAsync(client, 1));
        var opened = await service.ExpectMsgAsync<SessionOpened>();
        Assert.Equal("net.tcp://localhost:8808/echo/x", opened.Via);
    }

    [Fact]
    public async Task WorkerActor_must_register_again_when_the_router_handover_channel_closes()
    {
        var worker = StartWorker([EchoAddress]);
        var status = await StatusAsync(worker);
        await ExpectRegisterAsync(EchoAddress);
        // The router connects to the hand-over socket when it admits the worker, then answers.
        AnnounceRouter(worker);
        var routerEnd = UnixHandover.Connect(status.HandoverPath!);
        worker.Tell(new Registered(EchoAddress, "fd"), _registryForwarder);
        await AwaitAssertAsync(async () =>
            Assert.Equal(RegistrationState.Registered, (await StatusOfAsync(worker, EchoAddress)).State),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));
        await DrainRegistersAsync();

        // The router process dies: its end of the channel closes (its actor system may look alive a while longer).
        routerEnd.Dispose();

        await ExpectRegisterAsync(EchoAddress);
        Assert.Equal(RegistrationState.Pending, (await StatusOfAsync(worker, EchoAddress)).State);
    }

    [Fact]
    public async Task WorkerActor_must_restart_a_failing_service_actor()
    {
        var service = CreateTestProbe("service");
        var worker = StartWorker([EchoAddress], service);
        await StatusAsync(worker); // its services exist once PreStart has run
        var serviceActor = await Sys.ActorSelection(worker.Path / "service-0").ResolveOne(TimeSpan.FromSeconds(3));

        await EventFilter.Exception<InvalidOperationException>().ExpectOneAsync(() =>
        {
            serviceActor.Tell("boom");
            return Task.CompletedTask;
        });

        // Restarted, not stopped: the service keeps serving later sessions.
        await service.ExpectMsgAsync("restarted");
        serviceActor.Tell("still there?");
        await service.ExpectMsgAsync("still there?");
    }

    [Fact]
    public async Task WorkerActor_must_remove_its_handover_socket_file_when_stopped()
    {
        var worker = StartWorker([EchoAddress]);
        var status = await StatusAsync(worker);
        Assert.True(File.Exists(status.HandoverPath));
        Watch(worker);

        Sys.Stop(worker);
        await ExpectTerminatedAsync(worker);

        Assert.False(File.Exists(status.HandoverPath));
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, status.DataPort)); // the data port is free again
    }
    [Fact]
    public async Task WorkerActor_must_carry_the_registration_secret_and_the_channel_token_the_router_sends()
    {
        var worker = StartWorker([EchoAddress], settings: Settings("akka-port-share.worker.registration-secret = \"w-secret\""));
        var first = await ExpectRegisterAsync(EchoAddress);
        Assert.Equal("w-secret", first.Secret);
        Assert.Null(first.ChannelToken);

        // What the registry does when it admits the worker: connect to the hand-over socket, send the token.
        var status = await StatusAsync(worker);
        AnnounceRouter(worker);
        var routerEnd = UnixHandover.Connect(status.HandoverPath!);
        _disposables.Add(routerEnd);
        UnixHandover.Send(routerEnd, HandoverFrame.WriteToken("token-from-router"));

        // Sent at once, not at the next retry: the first Register that carries the token is the one answered.
        var proved = await _registry.FishForMessageAsync<Register>(r => r.ChannelToken is not null, TimeSpan.FromSeconds(1));
        Assert.Equal("token-from-router", proved.ChannelToken);
        Assert.Equal("w-secret", proved.Secret);
        _registry.Reply(new Registered(EchoAddress, "fd"));
        await AwaitAssertAsync(async () =>
            Assert.Equal(RegistrationState.Registered, (await StatusOfAsync(worker, EchoAddress)).State),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));

        // The channel closes (router gone): the token died with it, and registrations start over without it.
        await DrainRegistersAsync();
        routerEnd.Dispose();
        var again = await ExpectRegisterAsync(EchoAddress);
        Assert.Null(again.ChannelToken);
    }
}
