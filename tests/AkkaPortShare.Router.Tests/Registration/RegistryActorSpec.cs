using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using AkkaPortShare.Framing;
using AkkaPortShare.Interop;
using AkkaPortShare.Registration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Registration;
using AkkaPortShare.Router.Tests.TestSupport;
using static AkkaPortShare.Registration.RegistryProtocol;
using static AkkaPortShare.Router.RouterProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Registration;

/// <summary>
/// The registry: who owns which base address. Probes are the workers (a worker is known by its actor reference).
/// Workers without a hand-over path need no Unix socket; the hand-over tests listen on a real one in a temp folder.
/// </summary>
public sealed class RegistryActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka-port-share.router {
          handover-mode = auto
          receive-timeout = 2s
          fault-timeout = 2s
        }
        """;

    private static readonly IPEndPoint SharedPort = new(IPAddress.Loopback, 8808);

    private readonly RouterSettings _settings;
    private readonly string _tempDirectory = Path.Combine(Path.GetTempPath(), $"aps-registry-spec-{Guid.NewGuid():N}");
    private readonly List<IDisposable> _disposables = [];

    public RegistryActorSpec() : base(Config, "RegistryActorSpec")
    {
        _settings = RouterSettings.Create(Sys);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing); // stops the registry (and its gateways) before the sockets go
        foreach (var d in _disposables)
        {
            try { d.Dispose(); } catch { /* already gone */ }
        }
        try { Directory.Delete(_tempDirectory, recursive: true); } catch { /* never created */ }
    }

    private IActorRef StartRegistry(string? handoverMode = null)
    {
        var settings = handoverMode is null
            ? _settings
            : RouterSettings.Create(ConfigurationFactory.ParseString($"akka-port-share.router.handover-mode = {handoverMode}")
                .WithFallback(Sys.Settings.Config));
        return Sys.ActorOf(RegistryActor.Props(settings));
    }

    private static WorkerEndpoint RelayOnly(int pid) => new(pid, "worker-host", null, "127.0.0.1", 9000 + pid % 1000);

    private WorkerEndpoint WithHandover(string path, int? pid = null) =>
        new(pid ?? Environment.ProcessId, "worker-host", path, "127.0.0.1", 9001);

    /// <summary>A real SOCK_SEQPACKET hand-over listener, as a worker process opens it.</summary>
    private (Socket Listener, string Path) HandoverListener()
    {
        var path = Path.Combine(_tempDirectory, $"w-{Guid.NewGuid():N}.sock");
        var listener = UnixHandover.Listen(path);
        _disposables.Add(listener);
        return (listener, path);
    }

    private static async Task<T> RegisterAsync<T>(IActorRef registry, TestProbe worker, string address, WorkerEndpoint endpoint)
    {
        registry.Tell(new Register(address, endpoint), worker.Ref);
        return await worker.ExpectMsgAsync<T>();
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

        registry.Tell(new Unregister("net.tcp://+:8808/echo/"), stranger.Ref);

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

        registry.Tell(new Unregister("net.tcp://+:8808/echo/"), owner.Ref);

        Assert.Equal("net.tcp://+:8808/echo/", (await owner.ExpectMsgAsync<Unregistered>()).BaseAddress);
        Assert.IsType<RouteNotFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));
        Assert.Empty(await RegistrationsAsync(registry));

        // Unregistering it a second time is refused: it is no longer this worker's.
        registry.Tell(new Unregister("net.tcp://+:8808/echo/"), owner.Ref);
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

        registry.Tell(new Register(nullAddress ? null! : "net.tcp://+:8808/b/", nullEndpoint ? null! : RelayOnly(202)),
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
        var (_, path) = HandoverListener();
        var worker = CreateTestProbe();

        var registered = await RegisterAsync<Registered>(registry, worker, "net.tcp://+:8808/echo/", WithHandover(path));

        Assert.Equal("fd", registered.HandoverMode);
        var route = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo/x"));
        Assert.NotNull(route.Gateway);
        Assert.Equal(Environment.ProcessId, route.Worker.ProcessId);
        var entry = Assert.Single(await RegistrationsAsync(registry));
        Assert.Equal((Environment.ProcessId, "fd"), (entry.ProcessId, entry.HandoverMode));

        // A second address of the same worker shares its one channel (and gateway).
        await RegisterAsync<Registered>(registry, worker, "net.tcp://+:8808/other/", WithHandover(path));
        var second = Assert.IsType<RouteFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/other"));
        Assert.Equal(route.Gateway, second.Gateway);
    }

    [Fact]
    public async Task RegistryActor_must_relay_even_with_a_handover_path_in_relay_mode()
    {
        var registry = StartRegistry(handoverMode: "relay");
        var (_, path) = HandoverListener();

        var registered = await RegisterAsync<Registered>(registry, CreateTestProbe(), "net.tcp://+:8808/echo/", WithHandover(path));

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
        var (listener, path) = HandoverListener();
        var worker = CreateTestProbe();
        await RegisterAsync<Registered>(registry, worker, "net.tcp://+:8808/echo/", WithHandover(path));
        await RegisterAsync<Registered>(registry, worker, "net.tcp://+:8808/more/", WithHandover(path));
        using var accepting = new CancellationTokenSource(Loopback.IoTimeout);
        var channel = await listener.AcceptAsync(accepting.Token);

        // The worker process dies: its end of the hand-over channel closes, while its actor ref still looks alive.
        channel.Dispose();

        await AwaitAssertAsync(async () => Assert.Empty(await RegistrationsAsync(registry)),
            TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(25));
        Assert.IsType<RouteNotFound>(await ResolveAsync(registry, "net.tcp://localhost:8808/echo"));
    }

    [Fact]
    public async Task RegistryActor_must_route_a_rerouted_connection_afresh()
    {
        // A worker handed a pooled connection back: the registry starts a ConnectionActor on it, which asks the
        // registry itself. Nobody owns this via, so the client gets EndpointNotFound.
        var registry = StartRegistry();
        var (server, client) = await Loopback.ConnectedPairAsync();
        _disposables.Add(server);
        _disposables.Add(client);

        registry.Tell(new Reroute(server, FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/nobody")));

        var read = await Loopback.ReadToEndAsync(client);
        Assert.Equal(FramingWriter.Fault(FramingFaults.EndpointNotFound), read.Bytes);
        Assert.Equal(StreamEnd.Eof, read.End);
    }
}
