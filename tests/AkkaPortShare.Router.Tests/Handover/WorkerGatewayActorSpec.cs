using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Interop;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Handover;
using AkkaPortShare.Router.Tests.TestSupport;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Handover;

/// <summary>
/// A worker that stops reading its hand-over channel: the gateway never waits on the dispatcher, answers the
/// hand-overs it cannot deliver with ConnectionDispatchFailed (at once beyond handover-queue-limit, otherwise at
/// handover-timeout), and passes sockets again as soon as the worker reads.
/// Time is the test scheduler's: handover-timeout passes when the test advances it, not while the machine is busy.
/// </summary>
public sealed class WorkerGatewayActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka.loglevel = INFO
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        akka-port-share.router {
          handover-timeout = 30s
          handover-queue-limit = 3
          handover-send-buffer = 4k
          fault-timeout = 2s
        }
        """;

    private readonly RouterSettings _settings;
    private readonly string _directory = Directory.CreateTempSubdirectory("aps-gw-").FullName;
    private readonly List<Socket> _sockets = [];

    public WorkerGatewayActorSpec() : base(Config, "WorkerGatewayActorSpec") => _settings = RouterSettings.Create(Sys);

    protected override void Dispose(bool disposing)
    {
        foreach (var socket in _sockets) socket.DisposeQuietly();
        try { Directory.Delete(_directory, recursive: true); } catch { /* already gone */ }
        base.Dispose(disposing);
    }

    /// <summary>A hand-over channel: the router's end for the gateway, the worker's end for the test (unread until it says so).</summary>
    private (Socket Router, Socket Worker) Channel()
    {
        var (router, worker) = HandoverMessages.OpenChannel(_directory);
        _sockets.Add(router);
        _sockets.Add(worker);
        return (router, worker);
    }

    private async Task<(HandOver HandOver, Socket Client)> HandOverAsync(int i)
    {
        var (server, client) = await Loopback.ConnectedPairAsync();
        _sockets.Add(server);
        _sockets.Add(client);
        return (new HandOver(server, FramingWriter.Preamble(FramingMode.Duplex, $"net.tcp://localhost/{i}"), $"net.tcp://localhost/{i}"), client);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private static async Task<bool> FaultedAsync(Socket client, TimeSpan within)
    {
        var fault = FramingWriter.Fault(FramingFaults.ConnectionDispatchFailed);
        using var cts = new CancellationTokenSource(within);
        var buffer = new byte[fault.Length];
        try
        {
            var n = await client.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return n > 0 && buffer.AsSpan(0, n).SequenceEqual(fault.AsSpan(0, n));
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [Fact]
    public async Task WorkerGatewayActor_must_give_a_hand_over_its_dead_workers_channel_cannot_take_back_to_the_registry()
    {
        var (routerEnd, workerEnd) = Channel();
        var registry = CreateTestProbe();
        var parent = Sys.ActorOf(ProbeParent.Props(
            WorkerGatewayActor.Props(routerEnd, 4242, _settings, Sys.ActorOf(FaultDrainActor.Props(_settings))), registry.Ref));
        var gateway = await parent.Ask<IActorRef>(ProbeParent.GetChild.Instance, TimeSpan.FromSeconds(3));
        var (handOver, client) = await HandOverAsync(1);

        // The worker is going: its end takes nothing more (sendmsg fails with EPIPE), while the gateway has not
        // seen the channel's end yet.
        workerEnd.Shutdown(SocketShutdown.Receive);
        gateway.Tell(handOver);

        var undelivered = (Undelivered)await registry.FishForMessageAsync(m => m is Undelivered, TimeSpan.FromSeconds(5));
        Assert.Same(handOver, undelivered.HandOver);
        Assert.False(await FaultedAsync(client, TimeSpan.FromMilliseconds(200)), "the registry decides what the client gets");
    }

    [Fact]
    public async Task WorkerGatewayActor_must_pass_a_resumed_connection_larger_than_its_small_send_buffer_whole_and_keep_the_channel()
    {
        var (routerEnd, workerEnd) = Channel();
        var registry = CreateTestProbe();
        var parent = Sys.ActorOf(ProbeParent.Props(
            WorkerGatewayActor.Props(routerEnd, 4242, _settings, Sys.ActorOf(FaultDrainActor.Props(_settings))), registry.Ref));
        var gateway = await parent.Ask<IActorRef>(ProbeParent.GetChild.Instance, TimeSpan.FromSeconds(3));
        var (small, _) = await HandOverAsync(1);
        // A moved reliable session: 40 KiB since its preamble, five times what a 4k send buffer takes in one message.
        var bytes = new byte[40 * 1024];
        Random.Shared.NextBytes(bytes);
        var resumed = small with { AlreadyRead = bytes, Resumed = true };

        gateway.Tell(resumed);
        var (big, _) = await HandOverAsync(2);
        gateway.Tell(big);

        var (first, firstSocket) = await HandoverMessages.ReceiveAsync(workerEnd);
        Assert.NotNull(firstSocket);
        Assert.True(HandoverFrame.TryRead(first, out var replay, out var isResumed));
        Assert.True(isResumed);
        Assert.Equal(bytes, replay.ToArray());
        var (_, secondSocket) = await HandoverMessages.ReceiveAsync(workerEnd);
        Assert.NotNull(secondSocket); // the channel is still the worker's
        await registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(4096, routerEnd.SendBufferSize / 2); // and small again (Linux reports the doubled value)
    }

    [Fact]
    public async Task WorkerGatewayActor_must_fault_what_a_worker_that_stopped_reading_cannot_take_and_pass_again_when_it_reads()
    {
        var (routerEnd, workerEnd) = Channel();
        var parent = Sys.ActorOf(ProbeParent.Props(
            WorkerGatewayActor.Props(routerEnd, 4242, _settings, Sys.ActorOf(FaultDrainActor.Props(_settings))), CreateTestProbe().Ref));
        var gateway = await parent.Ask<IActorRef>(ProbeParent.GetChild.Instance, TimeSpan.FromSeconds(3));

        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Akka.Event.Warning));

        // Fill the channel, one at a time so each reaches the sender: the kernel takes about 11 at 4k, then one
        // waits in the sender, three in the queue, and the rest are over handover-queue-limit.
        var handOvers = new List<(HandOver HandOver, Socket Client)>();
        for (var i = 0; i < 20; i++) handOvers.Add(await HandOverAsync(i));
        foreach (var (handOver, _) in handOvers)
        {
            gateway.Tell(handOver);
            await Task.Delay(10);
        }

        // Over the limit: answered at once, long before handover-timeout.
        Assert.True(await FaultedAsync(handOvers[^1].Client, TimeSpan.FromMilliseconds(1500)),
            "a hand-over over handover-queue-limit was not refused at once");
        // The scheduler's clock has not moved: nothing has reached handover-timeout, however long the machine took.
        var reasons = warnings.ReceiveWhile<string>(TimeSpan.FromMilliseconds(500), m => m is Akka.Event.Warning w ? w.Message.ToString() : null)
            .Where(r => r is not null).Select(r => r!).ToList();
        Assert.DoesNotContain(reasons, r => r.Contains("not taken within handover-timeout"));

        // handover-timeout passes (plus one expiry tick): every other one the kernel did not take is answered now,
        // the one in flight on the sender thread included (a margin of real time for a busy machine).
        Clock.Advance(_settings.HandoverTimeout + _settings.HandoverTimeout / 10);
        var answeredBy = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        var faulted = 1;
        foreach (var (_, client) in handOvers.SkipLast(1))
            if (await FaultedAsync(client, Max(answeredBy - DateTime.UtcNow, TimeSpan.FromMilliseconds(50)))) faulted++;
        var taken = 0;
        var buffer = new byte[UnixHandover.MaxMessageSize];
        while (true)
        {
            try
            {
                if (UnixHandover.Receive(workerEnd, buffer, out var passed, new CancellationTokenSource(200).Token) == 0) break;
                passed?.Dispose();
                taken++;
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        Assert.Equal(20, faulted + taken);
        Assert.InRange(taken, 1, 16);
        reasons.AddRange(warnings.ReceiveWhile<string>(TimeSpan.FromMilliseconds(300), m => m is Akka.Event.Warning w ? w.Message.ToString() : null)
            .Where(r => r is not null).Select(r => r!));
        Assert.Contains(reasons, r => r.Contains("handover-queue-limit 3 reached"));
        Assert.Contains(reasons, r => r.Contains("not taken within handover-timeout"));

        // The worker reads again: the next hand-over goes through.
        var (again, _) = await HandOverAsync(99);
        gateway.Tell(again);
        var length = await Task.Run(() =>
        {
            var n = UnixHandover.Receive(workerEnd, buffer, out var passed, new CancellationTokenSource(5000).Token);
            passed?.Dispose();
            return n;
        });
        Assert.True(length > 0);
    }

    [Fact]
    public async Task WorkerGatewayActor_must_let_its_lane_pass_it_only_while_it_holds_nothing_so_the_order_holds()
    {
        var (routerEnd, workerEnd) = Channel();
        var lane = new HandoverLane(routerEnd, HeldConnections.Get(Sys), Sys.Log);
        var parent = Sys.ActorOf(ProbeParent.Props(
            WorkerGatewayActor.Props(routerEnd, 4242, _settings, Sys.ActorOf(FaultDrainActor.Props(_settings)), lane), CreateTestProbe().Ref));
        var gateway = await parent.Ask<IActorRef>(ProbeParent.GetChild.Instance, TimeSpan.FromSeconds(3));

        // The worker does not read yet. The lane sends itself while the channel has room; once it is full the
        // hand-overs go to the gateway (one on its sender thread, the rest queued), and the lane sends nothing
        // past them even if room appears meanwhile.
        var sent = new List<int>();
        var byPreamble = new Dictionary<string, int>(); // each hand-over's bytes name its via
        var byGateway = 0;
        for (var i = 0; byGateway < 3 && i < 100; i++)
        {
            var (handOver, _) = await HandOverAsync(i);
            sent.Add(i);
            byPreamble[Convert.ToHexString(handOver.AlreadyRead)] = i;
            if (lane.TrySendOrCount(handOver)) continue;
            Assert.True(sent.Count > 1, "an idle gateway's lane must send while the channel has room");
            lane.SendThroughGateway(gateway, handOver);
            byGateway++;
            await Task.Delay(20);
        }
        Assert.Equal(3, byGateway);

        // The worker reads: every one arrives once, in the order sent; when the gateway holds nothing again, the lane
        // sends itself again (until then each goes behind the gateway's and is read in its turn too).
        var buffer = new byte[UnixHandover.MaxMessageSize];
        var read = new List<int>();
        void ReadOne()
        {
            var length = UnixHandover.Receive(workerEnd, buffer, out var passed, new CancellationTokenSource(5000).Token);
            passed?.Dispose();
            Assert.True(HandoverFrame.TryRead(buffer.AsSpan(0, length), out var alreadyRead));
            read.Add(byPreamble[Convert.ToHexString(alreadyRead)]);
        }
        await Task.Run(() => { while (read.Count < sent.Count) ReadOne(); });
        var laneSentAgain = false;
        for (var i = 100; !laneSentAgain && i < 150; i++)
        {
            var (handOver, _) = await HandOverAsync(i);
            sent.Add(i);
            byPreamble[Convert.ToHexString(handOver.AlreadyRead)] = i;
            laneSentAgain = lane.TrySendOrCount(handOver);
            if (!laneSentAgain) lane.SendThroughGateway(gateway, handOver);
            await Task.Run(ReadOne);
        }
        Assert.True(laneSentAgain, "the lane never sent again once the gateway was idle");
        Assert.Equal(sent, read);
    }
}
