using System.Net.Sockets;
using Akka.Event;
using AkkaPortShare.Interop;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Handover;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Tests.Handover;

/// <summary>
/// The accept thread's way past a worker's gateway, on a real hand-over channel: a full channel is waited for up to
/// the caller's patience (handover-channel-wait) and the socket passed from there; one still full after it, or met
/// with no patience, goes behind the gateway, and every later one too until the gateway has taken it.
/// </summary>
public sealed class HandoverLaneSpec : Akka.TestKit.Xunit2.TestKit
{
    private readonly string _directory = Directory.CreateTempSubdirectory("aps-lane-").FullName;
    private readonly List<Socket> _sockets = [];

    public HandoverLaneSpec() : base("akka.actor.provider = local", nameof(HandoverLaneSpec))
    {
    }

    protected override void Dispose(bool disposing)
    {
        foreach (var socket in _sockets) socket.DisposeQuietly();
        try { Directory.Delete(_directory, recursive: true); } catch { /* already gone */ }
        base.Dispose(disposing);
    }

    [Fact]
    public async Task HandoverLane_must_wait_for_room_in_a_full_channel_and_pass_the_socket_once_the_worker_reads()
    {
        var (lane, workerEnd) = FullChannel(out var filler);
        var handOver = await HandOverAsync();

        // The worker's hand-over thread catches up while the accept thread waits.
        var draining = Task.Run(async () =>
        {
            await Task.Delay(100);
            for (var i = 0; i < filler; i++) await HandoverMessages.ReceiveAsync(workerEnd);
        });
        Assert.True(lane.TrySendOrCount(handOver, TimeSpan.FromSeconds(10)));
        await draining;

        var (payload, passed) = await HandoverMessages.ReceiveAsync(workerEnd);
        Assert.NotNull(passed);
        Assert.True(HandoverFrame.TryRead(payload, out var alreadyRead, out _));
        Assert.Equal(handOver.AlreadyRead, alreadyRead.ToArray());
    }

    [Fact]
    public async Task HandoverLane_must_send_what_meets_a_full_channel_without_patience_behind_the_gateway_with_all_that_follows()
    {
        var (lane, workerEnd) = FullChannel(out var filler);

        Assert.False(lane.TrySendOrCount(await HandOverAsync())); // counted: on its way to the gateway
        for (var i = 0; i < filler; i++) await HandoverMessages.ReceiveAsync(workerEnd);
        // Room now, but one is ahead in the gateway's mailbox: this one goes behind it, without waiting.
        Assert.False(lane.TrySendOrCount(await HandOverAsync(), TimeSpan.FromSeconds(10)));

        lane.Received();
        lane.Received();
        Assert.True(lane.TrySendOrCount(await HandOverAsync()));
    }

    [Fact]
    public async Task HandoverLane_must_give_up_waiting_after_its_patience_and_send_through_the_gateway()
    {
        var (lane, workerEnd) = FullChannel(out var filler);

        Assert.False(lane.TrySendOrCount(await HandOverAsync(), TimeSpan.FromMilliseconds(50))); // nobody reads
        for (var i = 0; i < filler; i++) await HandoverMessages.ReceiveAsync(workerEnd);
        Assert.False(lane.TrySendOrCount(await HandOverAsync())); // the first is still ahead of it

        lane.Received();
        lane.Received();
        Assert.True(lane.TrySendOrCount(await HandOverAsync()));
    }

    /// <summary>A lane on a channel whose 4k send buffer (handover-send-buffer) is full of messages the worker has not read.</summary>
    private (HandoverLane Lane, Socket WorkerEnd) FullChannel(out int messages)
    {
        var (routerEnd, workerEnd) = HandoverMessages.OpenChannel(_directory);
        _sockets.Add(routerEnd);
        _sockets.Add(workerEnd);
        routerEnd.SendBufferSize = 4096;
        var filler = FramingWriter.Preamble(FramingMode.Duplex, "net.tcp://localhost/filler/");
        messages = 0;
        while (UnixHandover.TrySend(routerEnd, filler)) messages++;
        Assert.InRange(messages, 1, 100);
        return (new HandoverLane(routerEnd, HeldConnections.Get(Sys), Logging.GetLogger(Sys, this)), workerEnd);
    }

    private async Task<HandOver> HandOverAsync()
    {
        var (server, client) = await Loopback.ConnectedPairAsync();
        _sockets.Add(server);
        _sockets.Add(client);
        const string via = "net.tcp://localhost/lane/";
        return new HandOver(server, FramingWriter.Preamble(FramingMode.Duplex, via), via);
    }
}
