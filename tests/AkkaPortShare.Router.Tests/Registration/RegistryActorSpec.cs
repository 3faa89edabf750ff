using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Interop;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Listening;
using AkkaPortShare.Router.Registration;
using AkkaPortShare.Router.Tests.TestSupport;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Router.RouterProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Registration;

/// <summary>
/// The registry: who owns which base address, and who may register. Probes are the workers. Workers without a
/// hand-over path need no Unix socket but the registration secret (set here); the hand-over tests listen on a real
/// socket in a temp folder and play the worker's side of the channel-token exchange.
/// </summary>
public sealed partial class RegistryActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Secret = "spec-secret";

    private const string Config = $$"""
        akka.actor.provider = local
        akka-port-share.router {
          handover-mode = auto
          receive-timeout = 2s
          fault-timeout = 2s
          registration-secret = "{{Secret}}"
        }
        """;

    private static readonly IPEndPoint SharedPort = new(IPAddress.Loopback, 8808);

    private readonly RouterSettings _settings;
    private readonly string _tempDirectory = Path.Combine(Path.GetTempPath(), $"aps-registry-spec-{Guid.NewGuid():N}");
    private readonly List<IDisposable> _disposables = [];
    private readonly List<FakeWorkerChannel> _channels = [];

    public RegistryActorSpec() : base(Config, "RegistryActorSpec")
    {
        _settings = RouterSettings.Create(Sys);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing); // stops the registry (and its gateways) before the sockets go
        foreach (var channel in _channels) channel.Channel?.Dispose();
        foreach (var d in _disposables)
        {
            try { d.Dispose(); } catch { /* already gone */ }
        }
        try { Directory.Delete(_tempDirectory, recursive: true); } catch { /* never created */ }
    }

    private IActorRef StartRegistry(string? handoverMode = null, string? extraHocon = null)
    {
        var settings = handoverMode is null && extraHocon is null
            ? _settings
            : RouterSettings.Create(ConfigurationFactory.ParseString(
                    $"akka-port-share.router.handover-mode = {handoverMode ?? "auto"}\n{extraHocon}")
                .WithFallback(Sys.Settings.Config));
        return Sys.ActorOf(RegistryActor.Props(settings, Sys.ActorOf(FaultDrainActor.Props(settings))));
    }

    [Fact]
    public async Task RegistryActor_must_announce_its_process_to_the_registrant_before_it_connects_to_its_handover_socket()
    {
        var registry = StartRegistry();
        var (listener, path) = HandoverListener();
        var worker = CreateTestProbe();

        registry.Tell(new Register("net.tcp://+:8808/echo/", WithHandover(path), Secret), worker.Ref);

        var announced = await worker.ExpectMsgAsync<AdmissionStarted>();
        Assert.Equal(new AdmissionStarted("net.tcp://+:8808/echo/", Environment.ProcessId, UnixHandover.CurrentUserId), announced);
        using var accepted = await listener.AcceptAsync(new CancellationTokenSource(Loopback.IoTimeout).Token);
        Assert.Equal(Environment.ProcessId, UnixHandover.GetPeerCredentials(accepted).ProcessId);
    }

    private static WorkerEndpoint RelayOnly(int pid) => new(pid, "worker-host", null, "127.0.0.1", 9000 + pid % 1000);

    private WorkerEndpoint WithHandover(string path, int? pid = null) =>
        new(pid ?? Environment.ProcessId, "worker-host", path, "127.0.0.1", 9001);

    /// <summary>A real SOCK_SEQPACKET hand-over listener, as a worker process opens it.</summary>
    private (Socket Listener, string Path) HandoverListener(int backlog = 64)
    {
        var path = Path.Combine(_tempDirectory, $"w-{Guid.NewGuid():N}.sock");
        var listener = UnixHandover.Listen(path, backlog);
        _disposables.Add(listener);
        return (listener, path);
    }

    private static async Task<T> RegisterAsync<T>(IActorRef registry, TestProbe worker, string address, WorkerEndpoint endpoint,
        string? secret = Secret)
    {
        registry.Tell(new Register(address, endpoint, secret), worker.Ref);
        return await AnswerAsync<T>(worker);
    }

    /// <summary>
    /// The registry's answer, past the AdmissionStarted it sends before checking a hand-over socket (a worker
    /// with one is told who is about to connect; the answer comes after the check, off the actor).
    /// </summary>
    private static async Task<T> AnswerAsync<T>(TestProbe worker)
    {
        var answer = await worker.ReceiveOneAsync(TimeSpan.FromSeconds(3));
        if (answer is AdmissionStarted) answer = await worker.ReceiveOneAsync(TimeSpan.FromSeconds(3));
        return Assert.IsType<T>(answer);
    }

    /// <summary>The worker's side of a hand-over socket: the channel the registry opens, and the token it sends.</summary>
    private sealed class FakeWorkerChannel(Socket listener, string path)
    {
        public string Path { get; } = path;
        public Socket? Channel { get; private set; }
        public string? Token { get; private set; }

        public async Task<string> AcceptTokenAsync()
        {
            using var accepting = new CancellationTokenSource(Loopback.IoTimeout);
            Channel = await listener.AcceptAsync(accepting.Token);
            var buffer = new byte[UnixHandover.MaxMessageSize];
            var length = await Task.Run(() => UnixHandover.Receive(Channel, buffer, out _, accepting.Token));
            Assert.True(HandoverFrame.TryReadToken(buffer.AsSpan(0, length), out var token), "the first message is the channel token");
            return Token = token!;
        }
    }

    private FakeWorkerChannel WorkerChannel()
    {
        var (listener, path) = HandoverListener();
        var channel = new FakeWorkerChannel(listener, path);
        // The accepted end must live as long as the test: if the collector closed it, the registry would (rightly)
        // take the worker for dead.
        _channels.Add(channel);
        return channel;
    }

    /// <summary>
    /// Registers as a worker with a hand-over socket does: the first Register makes the registry connect and send
    /// the token (and is not answered); the Register carrying the token is.
    /// </summary>
    private async Task<T> RegisterWithChannelAsync<T>(IActorRef registry, TestProbe worker, FakeWorkerChannel channel,
        string address, int? pid = null)
    {
        var endpoint = WithHandover(channel.Path, pid);
        if (channel.Token is null)
        {
            registry.Tell(new Register(address, endpoint, Secret), worker.Ref);
            await worker.ExpectMsgAsync<AdmissionStarted>();
            await channel.AcceptTokenAsync();
            await worker.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
        }
        registry.Tell(new Register(address, endpoint, Secret, channel.Token), worker.Ref);
        return await AnswerAsync<T>(worker);
    }

    private async Task<object> ResolveAsync(IActorRef registry, string via, IPEndPoint? localEndPoint = null)
    {
        registry.Tell(new Resolve(via, localEndPoint ?? SharedPort), TestActor);
        return await ExpectMsgAsync<object>(m => m is RouteFound or RouteNotFound);
    }

    private static async Task<IReadOnlyList<RegisteredAddress>> RegistrationsAsync(IActorRef registry) =>
        (await registry.Ask<Registrations>(GetRegistrations.Instance, TimeSpan.FromSeconds(3))).Addresses;

    [Fact]
    public async Task RegistryActor_must_register_a_worker_without_handover_path_in_relay_mode()
    {
        var registry = StartRegistry();
        var worker = CreateTestProbe();

        var registered = await RegisterAsync<Registered>(registry, worker, "net.tcp://+:8808/echo/", RelayOnly(101));

        Assert.Equal("net.tcp://+:8808/echo/", registered.BaseAddress);
        Assert.Equal("relay", registered.HandoverMode);
        var route = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo/svc"));
        Assert.Equal(101, route.Worker.ProcessId);
        Assert.Null(route.Gateway);
        var entry = Assert.Single(await RegistrationsAsync(registry));
        Assert.Equal((101, "relay"), (entry.ProcessId, entry.HandoverMode));
    }

    [Fact]
    public async Task RegistryActor_must_answer_Registered_again_when_the_same_worker_registers_the_same_address()
    {
        var registry = StartRegistry();
        var worker = CreateTestProbe();
        await RegisterAsync<Registered>(registry, worker, "net.tcp://+:8808/echo/", RelayOnly(101));

        // A worker retrying an unanswered registration must not be refused by its own earlier success.
        var again = await RegisterAsync<Registered>(registry, worker, "net.tcp://+:8808/ECHO", RelayOnly(101));

        Assert.Equal("net.tcp://+:8808/ECHO", again.BaseAddress);
        Assert.Single(await RegistrationsAsync(registry));
    }

    [Fact]
    public async Task RegistryActor_must_refuse_an_address_another_worker_holds_with_AddressAlreadyInUse()
    {
        var registry = StartRegistry();
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        await RegisterAsync<Registered>(registry, first, "net.tcp://+:8808/echo/", RelayOnly(101));

        var refused = await RegisterAsync<RegistrationRefused>(registry, second, "net.tcp://+:8808/echo/", RelayOnly(202));

        Assert.Equal(RefusalReason.AddressAlreadyInUse, refused.Reason);
        Assert.Equal("net.tcp://+:8808/echo/", refused.BaseAddress);
        Assert.Contains("already in use", refused.Message);
        Assert.Contains("101", refused.Message);
        var route = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));
        Assert.Equal(101, route.Worker.ProcessId);
        // The refused worker was seen for the first time: it is forgotten again, not left half-registered.
        Assert.All(await RegistrationsAsync(registry), e => Assert.Equal(101, e.ProcessId));
    }

    [Fact]
    public async Task RegistryActor_must_let_nested_paths_coexist_and_resolve_the_longest_prefix()
    {
        var registry = StartRegistry();
        var outer = CreateTestProbe();
        var inner = CreateTestProbe();
        await RegisterAsync<Registered>(registry, outer, "net.tcp://+:8808/a/", RelayOnly(101));
        await RegisterAsync<Registered>(registry, inner, "net.tcp://+:8808/a/b/", RelayOnly(202));

        var deep = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/a/b/c"));
        var shallow = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/a/bc"));
        var exact = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/A/B"));

        Assert.Equal(202, deep.Worker.ProcessId);
        Assert.Contains("/a/b", deep.BaseAddress);
        Assert.Equal(101, shallow.Worker.ProcessId); // whole segments: /a/bc is not under /a/b
        Assert.Equal(202, exact.Worker.ProcessId);   // segments compare case-insensitively
        Assert.Equal(2, (await RegistrationsAsync(registry)).Count);
    }

    [Fact]
    public async Task RegistryActor_must_answer_RouteNotFound_when_no_address_matches()
    {
        var registry = StartRegistry();
        await RegisterAsync<Registered>(registry, CreateTestProbe(), "net.tcp://+:8808/a/", RelayOnly(101));

        var other = Assert.IsType<RouteNotFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/z"));
        var otherLocalPort = Assert.IsType<RouteNotFound>(
            await ResolveAsync(registry, "net.tcp://localhost:8808/a", new IPEndPoint(IPAddress.Loopback, 9999)));
        var notAUri = Assert.IsType<RouteNotFound>(await ResolveAsync(registry, "not a uri"));

        Assert.Equal("net.tcp://localhost:8808/z", other.Via);
        Assert.Equal("net.tcp://localhost:8808/a", otherLocalPort.Via);
        Assert.Equal("not a uri", notAUri.Via);
    }

    [Fact]
    public async Task RegistryActor_must_match_a_strong_wildcard_on_the_local_port_not_the_via_port()
    {
        // As SMSvcHost: '+' registrations are looked up on the port the connection arrived on (a via for port 808
        // carries no port at all, so the via's port cannot be trusted).
        var registry = StartRegistry();
        await RegisterAsync<Registered>(registry, CreateTestProbe(), "net.tcp://+:8808/a/", RelayOnly(101));

        Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:9999/a"));
        Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost/a"));
    }

    [Theory]
    [InlineData("not a uri")]
    [InlineData("http://+:8808/echo/")]
    [InlineData("net.tcp://+:0/echo/")]
    [InlineData("")]
    public async Task RegistryActor_must_refuse_an_invalid_address_with_InvalidAddress(string address)
    {
        var registry = StartRegistry();
        var worker = CreateTestProbe();

        var refused = await RegisterAsync<RegistrationRefused>(registry, worker, address, RelayOnly(101));

        Assert.Equal(RefusalReason.InvalidAddress, refused.Reason);
        Assert.Equal(address, refused.BaseAddress);
        Assert.False(string.IsNullOrWhiteSpace(refused.Message));
        Assert.Empty(await RegistrationsAsync(registry));
    }

    [Fact]
    public async Task RegistryActor_must_refuse_an_address_over_2048_bytes_with_PathTooLong()
    {
        var registry = StartRegistry();
        const string prefix = "net.tcp://+:8808/";
        var exactly2048 = prefix + new string('a', 2048 - prefix.Length);
        var tooLong = exactly2048 + "b";

        var refused = await RegisterAsync<RegistrationRefused>(registry, CreateTestProbe(), tooLong, RelayOnly(101));
        await RegisterAsync<Registered>(registry, CreateTestProbe(), exactly2048, RelayOnly(102));

        Assert.Equal(RefusalReason.PathTooLong, refused.Reason);
        Assert.Contains("2048", refused.Message);
    }

    [Fact]
    public async Task RegistryActor_must_count_the_2048_byte_limit_in_UTF8_bytes()
    {
        var registry = StartRegistry();
        const string prefix = "net.tcp://+:8808/";
        // 1100 two-byte characters: under 2048 characters, over 2048 bytes.
        var address = prefix + new string('é', 1100);

        var refused = await RegisterAsync<RegistrationRefused>(registry, CreateTestProbe(), address, RelayOnly(101));

        Assert.Equal(RefusalReason.PathTooLong, refused.Reason);
    }

    [Fact]
    public async Task RegistryActor_must_refuse_Unregister_by_a_worker_that_does_not_own_the_address()
    {
        var registry = StartRegistry();
        var owner = CreateTestProbe();
        var stranger = CreateTestProbe();
        await RegisterAsync<Registered>(registry, owner, "net.tcp://+:8808/echo/", RelayOnly(101));

        registry.Tell(new Unregister("net.tcp://+:8808/echo/", Secret), stranger.Ref);

        var refused = await stranger.ExpectMsgAsync<RegistrationRefused>();
        Assert.Equal(RefusalReason.NotOwner, refused.Reason);
        Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));
    }

    [Fact]
    public async Task RegistryActor_must_unregister_for_the_owner_and_then_answer_RouteNotFound()
    {
        var registry = StartRegistry();
        var owner = CreateTestProbe();
        await RegisterAsync<Registered>(registry, owner, "net.tcp://+:8808/echo/", RelayOnly(101));

        registry.Tell(new Unregister("net.tcp://+:8808/echo/", Secret), owner.Ref);

        Assert.Equal("net.tcp://+:8808/echo/", (await owner.ExpectMsgAsync<Unregistered>()).BaseAddress);
        Assert.IsType<RouteNotFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));
        Assert.Empty(await RegistrationsAsync(registry));

        // Unregistering it a second time is refused: it is no longer this worker's.
        registry.Tell(new Unregister("net.tcp://+:8808/echo/", Secret), owner.Ref);
        Assert.Equal(RefusalReason.NotOwner, (await owner.ExpectMsgAsync<RegistrationRefused>()).Reason);
    }

    [Fact]
    public async Task RegistryActor_must_remove_the_addresses_of_a_worker_that_terminates()
    {
        var registry = StartRegistry();
        var doomed = CreateTestProbe();
        var survivor = CreateTestProbe();
        await RegisterAsync<Registered>(registry, doomed, "net.tcp://+:8808/a/", RelayOnly(101));
        await RegisterAsync<Registered>(registry, doomed, "net.tcp://+:8808/b/", RelayOnly(101));
        await RegisterAsync<Registered>(registry, survivor, "net.tcp://+:8808/c/", RelayOnly(202));

        Sys.Stop(doomed.Ref);

        await AwaitAssertAsync(async () =>
        {
            var left = await RegistrationsAsync(registry);
            Assert.Equal(202, Assert.Single(left).ProcessId);
        }, TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(50));
        Assert.IsType<RouteNotFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/a"));
        Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/c"));

        // The address is free again for someone else.
        await RegisterAsync<Registered>(registry, CreateTestProbe(), "net.tcp://+:8808/a/", RelayOnly(303));
    }

    [Fact]
    public async Task RegistryActor_must_refuse_a_worker_without_handover_path_with_HandoverUnavailable_in_fd_mode()
    {
        var registry = StartRegistry(handoverMode: "fd");

        var refused = await RegisterAsync<RegistrationRefused>(registry, CreateTestProbe(), "net.tcp://+:8808/echo/", RelayOnly(101));

        Assert.Equal(RefusalReason.HandoverUnavailable, refused.Reason);
        Assert.Empty(await RegistrationsAsync(registry));
    }

    [Fact]
    public async Task RegistryActor_must_refuse_an_unreachable_handover_path_with_HandoverUnavailable_in_fd_mode()
    {
        var registry = StartRegistry(handoverMode: "fd");
        var missing = Path.Combine(_tempDirectory, "nobody-listens-here.sock");

        var refused = await RegisterAsync<RegistrationRefused>(registry, CreateTestProbe(), "net.tcp://+:8808/echo/", WithHandover(missing));

        Assert.Equal(RefusalReason.HandoverUnavailable, refused.Reason);
        Assert.Contains("cannot be reached", refused.Message);
    }

    [Fact]
    public async Task RegistryActor_must_fall_back_to_relay_when_the_handover_path_is_unreachable_in_auto_mode()
    {
        var registry = StartRegistry();
        var missing = Path.Combine(_tempDirectory, "nobody-listens-here.sock");

        var registered = await RegisterAsync<Registered>(registry, CreateTestProbe(), "net.tcp://+:8808/echo/", WithHandover(missing));

        Assert.Equal("relay", registered.HandoverMode);
        Assert.Null(Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo")).Gateway);
    }

    [Theory]
    [InlineData(200)] // longer than sockaddr_un allows (108 bytes)
    [InlineData(0)]   // empty
    public async Task RegistryActor_must_keep_its_table_when_a_worker_offers_a_malformed_handover_path(int pathLength)
    {
        var registry = StartRegistry();
        await RegisterAsync<Registered>(registry, CreateTestProbe(), "net.tcp://+:8808/a/", RelayOnly(101));
        var badPath = pathLength == 0 ? "" : "/tmp/" + new string('x', pathLength);
        var newcomer = CreateTestProbe();

        registry.Tell(new Register("net.tcp://+:8808/b/", WithHandover(badPath)), newcomer.Ref);

        // Either answer is acceptable (relay in auto mode, or a refusal); losing everyone's registrations is not.
        var answer = await newcomer.ExpectMsgAsync<object>(TimeSpan.FromSeconds(2));
        Assert.True(answer is Registered or RegistrationRefused, $"unexpected answer {answer}");
        var route = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/a"));
        Assert.Equal(101, route.Worker.ProcessId);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task RegistryActor_must_keep_its_table_when_a_Register_lacks_its_address_or_endpoint(bool nullAddress, bool nullEndpoint)
    {
        // Registers cross Akka.Remote: a buggy or hostile worker can send nulls.
        var registry = StartRegistry();
        await RegisterAsync<Registered>(registry, CreateTestProbe(), "net.tcp://+:8808/a/", RelayOnly(101));

        registry.Tell(new Register(nullAddress ? null! : "net.tcp://+:8808/b/", nullEndpoint ? null! : RelayOnly(202), Secret),
            CreateTestProbe().Ref);

        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        var route = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/a"));
        Assert.Equal(101, route.Worker.ProcessId);
    }

    [Fact]
    public async Task RegistryActor_must_pass_sockets_to_a_worker_with_a_real_handover_path()
    {
        Assert.True(UnixHandover.IsSupported, "these specs run on Linux");
        var registry = StartRegistry();
        var channel = WorkerChannel();
        var worker = CreateTestProbe();

        var registered = await RegisterWithChannelAsync<Registered>(registry, worker, channel, "net.tcp://+:8808/echo/");

        Assert.Equal("fd", registered.HandoverMode);
        var route = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo/x"));
        Assert.NotNull(route.Gateway);
        Assert.Equal(Environment.ProcessId, route.Worker.ProcessId);
        var entry = Assert.Single(await RegistrationsAsync(registry));
        Assert.Equal((Environment.ProcessId, "fd"), (entry.ProcessId, entry.HandoverMode));

        // A second address of the same worker shares its one channel (and gateway).
        await RegisterWithChannelAsync<Registered>(registry, worker, channel, "net.tcp://+:8808/other/");
        var second = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/other"));
        Assert.Equal(route.Gateway, second.Gateway);
    }

    [Fact]
    public async Task RegistryActor_must_relay_even_with_a_handover_path_in_relay_mode()
    {
        var registry = StartRegistry(handoverMode: "relay");

        var registered = await RegisterWithChannelAsync<Registered>(registry, CreateTestProbe(), WorkerChannel(), "net.tcp://+:8808/echo/");

        Assert.Equal("relay", registered.HandoverMode);
        Assert.Null(Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo")).Gateway);
    }

    [Fact]
    public async Task RegistryActor_must_refuse_with_NotAuthorized_when_the_handover_socket_belongs_to_another_pid()
    {
        var registry = StartRegistry();
        var (_, path) = HandoverListener();
        var claimedPid = Environment.ProcessId + 1;

        var refused = await RegisterAsync<RegistrationRefused>(registry, CreateTestProbe(), "net.tcp://+:8808/echo/",
            WithHandover(path, claimedPid));

        Assert.Equal(RefusalReason.NotAuthorized, refused.Reason);
        Assert.Contains(Environment.ProcessId.ToString(), refused.Message);
        Assert.Empty(await RegistrationsAsync(registry));
        Assert.IsType<RouteNotFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));
    }

    [Fact]
    public async Task RegistryActor_must_remove_the_addresses_when_the_worker_handover_channel_closes()
    {
        var registry = StartRegistry();
        var channel = WorkerChannel();
        var worker = CreateTestProbe();
        await RegisterWithChannelAsync<Registered>(registry, worker, channel, "net.tcp://+:8808/echo/");
        await RegisterWithChannelAsync<Registered>(registry, worker, channel, "net.tcp://+:8808/more/");

        // The worker process dies: its end of the hand-over channel closes, while its actor ref still looks alive.
        channel.Channel!.Dispose();

        await AwaitAssertAsync(async () => Assert.Empty(await RegistrationsAsync(registry)),
            TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(25));
        Assert.IsType<RouteNotFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));
    }

    [Fact]
    public async Task RegistryActor_must_route_a_rerouted_connection_afresh()
    {
        // A worker handed a pooled connection back: the registry passes it to the listener, whose new
        // ConnectionActor asks the registry. Nobody owns this via, so the client gets EndpointNotFound.
        var registry = StartRegistry();
        var settings = RouterSettings.Create(ConfigurationFactory.ParseString(
            "akka-port-share.router { port = 0, listen-address = \"127.0.0.1\" }").WithFallback(Sys.Settings.Config));
        var listener = Sys.ActorOf(ListenerActor.Props(settings, registry, Sys.ActorOf(FaultDrainActor.Props(settings))));
        await listener.Ask<ListenerStatus>(GetListenerStatus.Instance, TimeSpan.FromSeconds(3)); // it has told the registry
        var (server, client) = await Loopback.ConnectedPairAsync();
        _disposables.Add(server);
        _disposables.Add(client);

        registry.Tell(new Reroute(server, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/nobody")));

        var read = await Loopback.ReadToEndAsync(client);
        Assert.Equal(FramingWriter.Fault(FramingFaults.EndpointNotFound), read.Bytes);
        Assert.Equal(StreamEnd.Eof, read.End);
    }

    [Fact]
    public async Task RegistryActor_must_hand_a_rerouted_connection_to_the_listener_that_said_it_is_ready()
    {
        var registry = StartRegistry();
        var listener = CreateTestProbe("listener");
        registry.Tell(ListenerReady.Instance, listener.Ref);
        var (server, client) = await Loopback.ConnectedPairAsync();
        _disposables.Add(server);
        _disposables.Add(client);
        var reroute = new Reroute(server, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/x"));

        registry.Tell(reroute);

        Assert.Same(reroute, await listener.ExpectMsgAsync<Reroute>());
        Assert.True(Loopback.IsOpenAndSilent(client), "the registry itself must neither answer nor close it");
    }

    [Fact]
    public async Task RegistryActor_must_close_a_rerouted_connection_when_no_listener_is_ready()
    {
        var registry = StartRegistry();
        var (server, client) = await Loopback.ConnectedPairAsync();
        _disposables.Add(server);
        _disposables.Add(client);

        registry.Tell(new Reroute(server, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/x")));

        Assert.Empty((await Loopback.ReadToEndAsync(client)).Bytes);
    }

    // ---- Who may register: allowed-worker-users, the registration secret, the channel token ----

    [Fact]
    public async Task RegistryActor_must_refuse_with_NotAuthorized_a_worker_whose_user_is_not_allowed()
    {
        var me = UnixHandover.CurrentUserId;
        var other = me == 65534 ? 65533u : 65534u;
        var registry = StartRegistry(extraHocon: $"akka-port-share.router.allowed-worker-users = [{other}]");
        var channel = WorkerChannel();
        var worker = CreateTestProbe();

        var refused = await RegisterAsync<RegistrationRefused>(registry, worker, "net.tcp://+:8808/echo/", WithHandover(channel.Path));

        Assert.Equal(RefusalReason.NotAuthorized, refused.Reason);
        Assert.Contains($"runs as user {me}", refused.Message);
        Assert.Contains("allowed-worker-users", refused.Message);
        Assert.Empty(await RegistrationsAsync(registry));
        Assert.IsType<RouteNotFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));
    }

    [Fact]
    public async Task RegistryActor_must_admit_a_worker_whose_user_is_allowed_by_name()
    {
        var myName = UnixUsers.GetUserName(UnixHandover.CurrentUserId)!;
        var registry = StartRegistry(extraHocon: $"akka-port-share.router.allowed-worker-users = [\"{myName}\", 65534]");

        var registered = await RegisterWithChannelAsync<Registered>(registry, CreateTestProbe(), WorkerChannel(), "net.tcp://+:8808/echo/");

        Assert.Equal("fd", registered.HandoverMode);
    }

    [Fact]
    public void RouterSettings_must_refuse_an_unknown_user_name_in_allowed_worker_users()
    {
        var error = Assert.ThrowsAny<ConfigurationException>(() => RouterSettings.Create(ConfigurationFactory
            .ParseString("akka-port-share.router.allowed-worker-users = [\"no-such-user-aps\"]")));

        Assert.Contains("no-such-user-aps", error.Message);
    }

    [Fact]
    public void RouterSettings_must_default_to_the_routers_own_user_and_root_and_keep_the_secret_out_of_ToString()
    {
        var settings = RouterSettings.Create(ConfigurationFactory.ParseString("akka-port-share.router.registration-secret = \"s3cr3t\""));

        Assert.Empty(settings.AllowedWorkerUsers);
        Assert.Equal(new HashSet<uint> { UnixHandover.CurrentUserId, 0 }, settings.AllowedWorkerUserIds.ToHashSet());
        Assert.True(settings.RegistrationSecret.Matches("s3cr3t"));
        Assert.DoesNotContain("s3cr3t", settings.ToString());
        Assert.DoesNotContain("s3cr3t", new Register("net.tcp://+:1/a/", RelayOnly(1), "s3cr3t", "t0ken").ToString());
    }

    [Fact]
    public async Task RegistryActor_must_refuse_a_worker_that_cannot_be_checked_when_no_secret_is_configured()
    {
        // No hand-over socket means no user to check: without a secret such a worker could be anyone.
        var registry = StartRegistry(extraHocon: "akka-port-share.router.registration-secret = \"\"");

        var refused = await RegisterAsync<RegistrationRefused>(registry, CreateTestProbe(), "net.tcp://+:8808/echo/", RelayOnly(101), secret: null);

        Assert.Equal(RefusalReason.NotAuthorized, refused.Reason);
        Assert.Contains("registration-secret", refused.Message);
        Assert.Empty(await RegistrationsAsync(registry));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong")]
    [InlineData("spec-secre")]
    [InlineData("spec-secret ")]
    public async Task RegistryActor_must_refuse_a_missing_or_wrong_secret_with_NotAuthorized(string? presented)
    {
        var registry = StartRegistry();

        var relayed = await RegisterAsync<RegistrationRefused>(registry, CreateTestProbe(), "net.tcp://+:8808/a/", RelayOnly(101), presented);
        // The secret is checked before anything else, so a worker with a good hand-over socket needs it too.
        var local = await RegisterAsync<RegistrationRefused>(registry, CreateTestProbe(), "net.tcp://+:8808/b/",
            WithHandover(WorkerChannel().Path), presented);

        Assert.Equal(RefusalReason.NotAuthorized, relayed.Reason);
        Assert.Equal(RefusalReason.NotAuthorized, local.Reason);
        Assert.Contains("registration-secret", relayed.Message);
        Assert.Empty(await RegistrationsAsync(registry));
    }

    [Fact]
    public async Task RegistryActor_must_refuse_Unregister_without_the_secret()
    {
        var registry = StartRegistry();
        var owner = CreateTestProbe();
        await RegisterAsync<Registered>(registry, owner, "net.tcp://+:8808/echo/", RelayOnly(101));

        registry.Tell(new Unregister("net.tcp://+:8808/echo/"), owner.Ref);

        Assert.Equal(RefusalReason.NotAuthorized, (await owner.ExpectMsgAsync<RegistrationRefused>()).Reason);
        Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));
    }

    [Fact]
    public async Task RegistryActor_must_send_the_channel_token_only_through_the_workers_own_socket()
    {
        // An intruder names a real worker's hand-over socket (path and pid are easy to find). The registry checks
        // and admits the process behind that socket, but the token goes to that process, not to the intruder.
        var registry = StartRegistry();
        var channel = WorkerChannel();
        var intruder = CreateTestProbe();

        registry.Tell(new Register("net.tcp://+:8808/stolen/", WithHandover(channel.Path), Secret), intruder.Ref);
        await intruder.ExpectMsgAsync<AdmissionStarted>();
        var token = await channel.AcceptTokenAsync();

        await intruder.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        registry.Tell(new Register("net.tcp://+:8808/stolen/", WithHandover(channel.Path), Secret, "guessed-token"), intruder.Ref);
        Assert.Equal(RefusalReason.NotAuthorized, (await intruder.ExpectMsgAsync<RegistrationRefused>()).Reason);
        Assert.Empty(await RegistrationsAsync(registry));

        // The real worker, holding the token, registers what it wants.
        var real = CreateTestProbe();
        registry.Tell(new Register("net.tcp://+:8808/mine/", WithHandover(channel.Path), Secret, token), real.Ref);
        await real.ExpectMsgAsync<Registered>();
        Assert.Contains("/mine", Assert.Single(await RegistrationsAsync(registry)).BaseAddress);
        Assert.IsType<RouteNotFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/stolen"));
    }

    [Fact]
    public async Task RegistryActor_must_not_let_anyone_unregister_a_channel_workers_address_without_its_token()
    {
        // Akka.Remote lets any peer name any sender: the worker's own actor reference proves nothing.
        var registry = StartRegistry();
        var channel = WorkerChannel();
        var worker = CreateTestProbe();
        await RegisterWithChannelAsync<Registered>(registry, worker, channel, "net.tcp://+:8808/echo/");

        registry.Tell(new Unregister("net.tcp://+:8808/echo/", Secret), worker.Ref);
        Assert.Equal(RefusalReason.NotOwner, (await worker.ExpectMsgAsync<RegistrationRefused>()).Reason);
        registry.Tell(new Unregister("net.tcp://+:8808/echo/", Secret, "guessed-token"), worker.Ref);
        Assert.Equal(RefusalReason.NotOwner, (await worker.ExpectMsgAsync<RegistrationRefused>()).Reason);
        Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));

        registry.Tell(new Unregister("net.tcp://+:8808/echo/", Secret, channel.Token), worker.Ref);
        await worker.ExpectMsgAsync<Unregistered>();
        Assert.IsType<RouteNotFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));
    }

    [Fact]
    public async Task RegistryActor_must_refuse_a_second_worker_taking_over_a_channel_workers_address()
    {
        var registry = StartRegistry();
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        await RegisterWithChannelAsync<Registered>(registry, first, WorkerChannel(), "net.tcp://+:8808/echo/");

        var refused = await RegisterWithChannelAsync<RegistrationRefused>(registry, second, WorkerChannel(), "net.tcp://+:8808/ECHO");

        Assert.Equal(RefusalReason.AddressAlreadyInUse, refused.Reason);
        var route = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));
        Assert.Equal(Environment.ProcessId, route.Worker.ProcessId);
        Assert.Single(await RegistrationsAsync(registry));
    }

    [Fact]
    public async Task RegistryActor_must_fault_a_connection_routed_to_a_worker_whose_channel_closed_before_the_hand_over()
    {
        // The worker dies between the routing decision and the hand-over: the client gets ConnectionDispatchFailed
        // (from the gateway's queue, or from the dead letter its stopped gateway leaves), never silence.
        var registry = StartRegistry();
        var channel = WorkerChannel();
        await RegisterWithChannelAsync<Registered>(registry, CreateTestProbe(), channel, "net.tcp://+:8808/echo/");
        var route = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo/x"));

        channel.Channel!.Dispose();
        await AwaitAssertAsync(async () => Assert.Empty(await RegistrationsAsync(registry)),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));
        var clients = new List<Socket>();
        for (var i = 0; i < 5; i++)
        {
            var (server, client) = await Loopback.ConnectedPairAsync();
            _disposables.Add(server);
            _disposables.Add(client);
            clients.Add(client);
            route.Gateway!.Tell(new HandOver(server, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/echo/x"),
                "net.tcp://localhost:8808/echo/x"));
        }

        foreach (var client in clients)
        {
            var read = await Loopback.ReadToEndAsync(client);
            Assert.Equal(FramingWriter.Fault(FramingFaults.ConnectionDispatchFailed), read.Bytes);
        }
    }

    // ---- Admission off the actor (issue 10): a stalled check, in-flight bounds, listening end point ----

    /// <summary>A hand-over socket that never accepts: its backlog is full, so a connect to it cannot complete.</summary>
    private string StalledHandoverPath()
    {
        var (_, path) = HandoverListener(backlog: 1);
        for (var filled = 0; filled < 64; filled++)
        {
            var filler = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified) { Blocking = false };
            _disposables.Add(filler);
            try
            {
                filler.Connect(new UnixDomainSocketEndPoint(path));
            }
            catch (SocketException) when (filled > 0)
            {
                return path; // the kernel's queue for this listener is full
            }
        }
        throw new InvalidOperationException("the hand-over listener's backlog never filled");
    }

    [Fact]
    public async Task RegistryActor_must_keep_routing_while_a_handover_check_stalls_and_refuse_it_at_admission_timeout()
    {
        var registry = StartRegistry(extraHocon: "akka-port-share.router.admission-timeout = 600ms");
        await RegisterAsync<Registered>(registry, CreateTestProbe(), "net.tcp://+:8808/a/", RelayOnly(101));
        var stalled = CreateTestProbe();
        var endpoint = WithHandover(StalledHandoverPath());
        var started = DateTime.UtcNow;

        registry.Tell(new Register("net.tcp://+:8808/stalled/", endpoint, Secret), stalled.Ref);
        var admission = await stalled.ExpectMsgAsync<AdmissionStarted>();
        // The same registrant again while its check runs: no second check (no second AdmissionStarted).
        registry.Tell(new Register("net.tcp://+:8808/stalled/", endpoint, Secret), stalled.Ref);

        // Routing goes on meanwhile: the check runs off the actor.
        for (var i = 0; i < 20; i++)
            Assert.Equal(101, Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/a/x")).Worker.ProcessId);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromMilliseconds(600), "every Resolve was answered while the check stalled");

        var refused = await stalled.ExpectMsgAsync<RegistrationRefused>(TimeSpan.FromSeconds(3));
        var waited = DateTime.UtcNow - started;
        Assert.Equal(RefusalReason.HandoverUnavailable, refused.Reason);
        Assert.Contains("admission-timeout", refused.Message);
        Assert.InRange(waited, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2.5));
        Assert.Equal((Environment.ProcessId, UnixHandover.CurrentUserId), (admission.RouterProcessId, admission.RouterUserId));
        Assert.Equal(RefusalReason.HandoverUnavailable, (await stalled.ExpectMsgAsync<RegistrationRefused>()).Reason);
        await stalled.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(101, Assert.Single(await RegistrationsAsync(registry)).ProcessId);
    }

    [Fact]
    public async Task RegistryActor_must_refuse_a_registrant_beyond_max_concurrent_admissions_at_once()
    {
        var registry = StartRegistry(extraHocon: """
            akka-port-share.router { admission-timeout = 3s, max-concurrent-admissions = 1 }
            """);
        var stalled = CreateTestProbe();
        registry.Tell(new Register("net.tcp://+:8808/stalled/", WithHandover(StalledHandoverPath()), Secret), stalled.Ref);
        await stalled.ExpectMsgAsync<AdmissionStarted>();

        var second = CreateTestProbe();
        registry.Tell(new Register("net.tcp://+:8808/b/", WithHandover(WorkerChannel().Path), Secret), second.Ref);

        // Refused at once, without a check started for it (its first message is the refusal).
        var refused = await second.ExpectMsgAsync<RegistrationRefused>(TimeSpan.FromMilliseconds(1500));
        Assert.Equal(RefusalReason.HandoverUnavailable, refused.Reason);
        Assert.Contains("max-concurrent-admissions", refused.Message);
        Assert.Empty(await RegistrationsAsync(registry));
    }

    [Theory]
    [InlineData("net.tcp://+:9999/x/", "port 9999")]
    [InlineData("net.tcp://10.1.2.3:8808/x/", "host 10.1.2.3")]
    [InlineData("net.tcp://[::1]:8808/x/", "host [::1]")]
    public async Task RegistryActor_must_refuse_an_address_the_router_does_not_listen_on_with_NotListening(string address, string named)
    {
        var registry = StartRegistry(extraHocon: "akka-port-share.router { port = 8808, listen-address = \"127.0.0.1\" }");

        var refused = await RegisterAsync<RegistrationRefused>(registry, CreateTestProbe(), address, RelayOnly(101));

        Assert.Equal(RefusalReason.NotListening, refused.Reason);
        Assert.Contains("127.0.0.1:8808", refused.Message);
        Assert.Contains(named, refused.Message);
        Assert.Empty(await RegistrationsAsync(registry));
        // What the listener does cover is registered as before.
        await RegisterAsync<Registered>(registry, CreateTestProbe(), "net.tcp://127.0.0.1:8808/x/", RelayOnly(102));
        await RegisterAsync<Registered>(registry, CreateTestProbe(), "net.tcp://localhost:8808/y/", RelayOnly(103));
    }

    [Fact]
    public async Task RegistryActor_must_publish_every_change_of_its_table_for_the_accept_loops()
    {
        var routes = RouteSnapshots.Get(Sys);
        var registry = StartRegistry();
        var viaGateway = CreateTestProbe();
        var relayed = CreateTestProbe();
        RouteTarget? Match(string via) => routes.Current.TryMatch(via, SharedPort, out var target) ? target : null;

        // A worker with a hand-over socket: its gateway and lane are published as soon as it is Registered.
        await RegisterWithChannelAsync<Registered>(registry, viaGateway, WorkerChannel(), "net.tcp://+:8808/fd/");
        var fd = Match("net.tcp://localhost:8808/fd/svc");
        Assert.NotNull(fd?.Gateway);
        Assert.NotNull(fd.Lane);
        Assert.Equal("net.tcp://+:8808/fd/", fd.BaseAddress);

        // A relayed worker is published without a gateway: the accept loops leave its connections to the registry.
        await RegisterAsync<Registered>(registry, relayed, "net.tcp://+:8808/relay/", RelayOnly(101));
        var relay = Match("net.tcp://localhost:8808/relay/svc");
        Assert.NotNull(relay);
        Assert.Null(relay.Gateway);

        // Unregistered, or gone: no longer published.
        registry.Tell(new Unregister("net.tcp://+:8808/relay/", Secret), relayed.Ref);
        await relayed.ExpectMsgAsync<Unregistered>();
        Assert.Null(Match("net.tcp://localhost:8808/relay/svc"));
        Assert.NotNull(Match("net.tcp://localhost:8808/fd/svc"));
        Sys.Stop(registry);
        await AwaitConditionAsync(() => Task.FromResult(routes.Current.IsEmpty), TimeSpan.FromSeconds(3));
    }
}
