using System.Net.Sockets;
using Akka.Actor;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Interop;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Tests.Registration;

/// <summary>
/// The hand-over socket takes sockets and tokens only from the router: the process the registry announced with
/// AdmissionStarted, matched with the connection's SO_PEERCRED. Here the test process plays the router when it
/// announces its own pid, and a stranger when the announced router is pid 1 (init: always running, never us).
/// </summary>
public sealed partial class WorkerActorSpec
{
    private const int Init = 1;

    private async Task<Socket> ConnectToHandoverAsync(IActorRef worker)
    {
        var routerEnd = UnixHandover.Connect((await StatusAsync(worker)).HandoverPath!);
        _disposables.Add(routerEnd);
        return routerEnd;
    }

    /// <summary>
    /// Waits until the worker closes a hand-over connection: end of stream, or a reset when it closed with what the
    /// test had sent still unread.
    /// </summary>
    private static async Task AssertClosedByWorkerAsync(Socket routerEnd)
    {
        using var cts = new CancellationTokenSource(Loopback.IoTimeout);
        try
        {
            Assert.Equal(0, await Task.Run(() => UnixHandover.Receive(routerEnd, new byte[64], out _, cts.Token)));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
    }

    /// <summary>No Register carrying a token within <paramref name="window"/>: the worker did not take the token.</summary>
    private async Task ExpectNoTokenTakenAsync(TimeSpan window)
    {
        var deadline = DateTime.UtcNow + window;
        while (DateTime.UtcNow < deadline)
        {
            if (await _registry.ReceiveOneAsync(TimeSpan.FromMilliseconds(100)) is Register r) Assert.Null(r.ChannelToken);
        }
    }

    [Fact]
    public async Task WorkerActor_must_read_a_connection_made_before_the_announcement_only_once_it_names_that_process()
    {
        var worker = StartWorker([EchoAddress]);
        await ExpectRegisterAsync(EchoAddress);
        var routerEnd = await ConnectToHandoverAsync(worker);
        UnixHandover.Send(routerEnd, HandoverFrame.WriteToken("early-token"));

        await ExpectNoTokenTakenAsync(TimeSpan.FromMilliseconds(600)); // unread while nobody vouched for the peer
        AnnounceRouter(worker);

        var proved = await _registry.FishForMessageAsync<Register>(r => r.ChannelToken is not null, TimeSpan.FromSeconds(2));
        Assert.Equal("early-token", proved.ChannelToken);
    }

    [Fact]
    public async Task WorkerActor_must_close_at_once_a_connection_from_a_process_other_than_the_running_router()
    {
        var worker = StartWorker([EchoAddress]);
        await ExpectRegisterAsync(EchoAddress);
        AnnounceRouter(worker, processId: Init);

        Socket? routerEnd = null;
        await EventFilter.Warning(contains: $"Closed a hand-over connection from pid {Environment.ProcessId}").ExpectOneAsync(async () =>
        {
            routerEnd = await ConnectToHandoverAsync(worker);
            await AssertClosedByWorkerAsync(routerEnd);
        });
    }

    [Fact]
    public async Task WorkerActor_must_close_unserved_the_sockets_a_stranger_passed_and_ignore_its_token()
    {
        var service = CreateTestProbe("service");
        var worker = StartWorker([EchoAddress], service);
        await ExpectRegisterAsync(EchoAddress);
        var strangerEnd = await ConnectToHandoverAsync(worker);
        var (server, client) = await Loopback.ConnectedPairAsync();
        _disposables.Add(client);
        var preamble = FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost:8808/echo/x");
        var frame = new byte[preamble.Length + 1];
        UnixHandover.Send(strangerEnd, HandoverFrame.WriteToken("forged-token"));
        UnixHandover.Send(strangerEnd, frame.AsSpan(0, HandoverFrame.Write(frame, preamble)), server);
        UnixHandover.ReleaseAfterHandover(server);

        // The router announces itself (not the stranger): the waiting connection is closed with what it carried.
        await EventFilter.Warning(contains: "only the router, pid 1").ExpectOneAsync(() =>
        {
            AnnounceRouter(worker, processId: Init);
            return Task.CompletedTask;
        });

        await AssertClosedByWorkerAsync(strangerEnd);
        var end = await Loopback.ReadToEndAsync(client); // the passed socket's last copy closed: never served
        Assert.Empty(end.Bytes);
        await service.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        await ExpectNoTokenTakenAsync(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task WorkerActor_must_close_a_connection_no_announcement_names_within_the_verify_timeout()
    {
        var worker = StartWorker([EchoAddress], settings: Settings("akka-port-share.worker.handover-verify-timeout = 300ms"));
        await ExpectRegisterAsync(EchoAddress);

        await EventFilter.Warning(contains: "no router announced that process within 0.3 s").ExpectOneAsync(async () =>
        {
            var routerEnd = await ConnectToHandoverAsync(worker);
            await AssertClosedByWorkerAsync(routerEnd);
        });
    }

    [Fact]
    public async Task WorkerActor_must_hold_at_most_max_unverified_connections_closing_the_oldest()
    {
        var worker = StartWorker([EchoAddress], settings: Settings("akka-port-share.worker.max-unverified-handover-channels = 2"));
        await ExpectRegisterAsync(EchoAddress);
        // No wait needed between them: a connect returns once the kernel queued it, the worker accepts its
        // hand-over socket in one sequential loop (FIFO) and tells itself each in that order, so the first is
        // the oldest whenever the third arrives.
        var first = await ConnectToHandoverAsync(worker);
        var second = await ConnectToHandoverAsync(worker);

        Socket? third = null;
        await EventFilter.Warning(contains: "2 hand-over connections were already waiting").ExpectOneAsync(async () =>
        {
            third = await ConnectToHandoverAsync(worker);
            await AssertClosedByWorkerAsync(first);
        });

        // The two held ones are still there and are read once the router (this process) announces itself.
        UnixHandover.Send(third!, HandoverFrame.WriteToken("third-token"));
        AnnounceRouter(worker);
        var proved = await _registry.FishForMessageAsync<Register>(r => r.ChannelToken is not null, TimeSpan.FromSeconds(2));
        Assert.Equal("third-token", proved.ChannelToken);
        Assert.True(Loopback.IsOpenAndSilent(second));
    }

    [Fact]
    public async Task WorkerActor_must_ignore_AdmissionStarted_from_anyone_but_the_router()
    {
        var worker = StartWorker([EchoAddress]);
        await ExpectRegisterAsync(EchoAddress);
        using var stranger = ActorSystem.Create("Stranger", "akka.actor.provider = local");
        var strangerActor = stranger.ActorOf(Props.Empty, "stranger");
        var routerEnd = await ConnectToHandoverAsync(worker);
        UnixHandover.Send(routerEnd, HandoverFrame.WriteToken("stranger-token"));

        await EventFilter.Warning(contains: "Ignored AdmissionStarted").ExpectOneAsync(() =>
        {
            worker.Tell(new AdmissionStarted(EchoAddress, Environment.ProcessId, UnixHandover.CurrentUserId), strangerActor);
            return Task.CompletedTask;
        });
        await EventFilter.Warning(contains: "Ignored AdmissionStarted").ExpectOneAsync(() =>
        {
            AnnounceRouter(worker, address: "net.tcp://+:8808/not-ours/");
            return Task.CompletedTask;
        });

        await ExpectNoTokenTakenAsync(TimeSpan.FromMilliseconds(600));
        await stranger.Terminate();
    }

    [Fact]
    public async Task WorkerActor_must_ignore_the_announcement_of_a_router_whose_user_is_not_allowed()
    {
        var worker = StartWorker([EchoAddress], settings: Settings("akka-port-share.worker.allowed-router-users = [65534]"));
        await ExpectRegisterAsync(EchoAddress);
        var routerEnd = await ConnectToHandoverAsync(worker);
        UnixHandover.Send(routerEnd, HandoverFrame.WriteToken("unallowed-token"));

        await EventFilter.Warning(contains: "its user is not in allowed-router-users (65534").ExpectOneAsync(() =>
        {
            AnnounceRouter(worker);
            return Task.CompletedTask;
        });

        await ExpectNoTokenTakenAsync(TimeSpan.FromMilliseconds(600));
    }

    [Fact]
    public async Task WorkerActor_must_ignore_an_announcement_of_another_process_while_the_announced_router_still_runs()
    {
        var worker = StartWorker([EchoAddress]);
        await ExpectRegisterAsync(EchoAddress);
        AnnounceRouter(worker);

        await EventFilter.Warning(contains: $"the router is pid {Environment.ProcessId} ").ExpectOneAsync(() =>
        {
            AnnounceRouter(worker, processId: Init);
            return Task.CompletedTask;
        });

        var routerEnd = await ConnectToHandoverAsync(worker);
        UnixHandover.Send(routerEnd, HandoverFrame.WriteToken("still-the-router"));
        var proved = await _registry.FishForMessageAsync<Register>(r => r.ChannelToken is not null, TimeSpan.FromSeconds(2));
        Assert.Equal("still-the-router", proved.ChannelToken);
    }
}
