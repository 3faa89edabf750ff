using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.ReliableSessions.Tests.TestSupport;
using Xunit.Abstractions;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;

namespace AkkaPortShare.ReliableSessions.Tests;

/// <summary>
/// Two <see cref="ReliableSessionActor"/>s, one per end (A's outgoing sequence is B's incoming one and the other way
/// round), joined by a fault-injecting wire that drops, duplicates and delays (so reorders) packets at seeded rates.
/// A producer pushes <see cref="Count"/> numbered messages into A, a consumer on B takes them as fast as they come;
/// everything must arrive exactly once, in order, and the close handshake must complete.
/// </summary>
public sealed class InProcessChaosSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka.loglevel = WARNING
        akka-port-share.reliable-session {
          max-transfer-window-size = 64
          acknowledgement-interval = 5ms
        }
        """;

    private const int Count = 100_000;

    private readonly ITestOutputHelper _output;

    public InProcessChaosSpec(ITestOutputHelper output) : base(Config, "InProcessChaosSpec", output) => _output = output;

    /// <param name="DropMessages">Rate of sequence messages (A's data, the end marker, retransmissions) dropped.</param>
    /// <param name="DropAcks">Rate of every other packet (acknowledgements, ack requests) dropped.</param>
    public sealed record Chaos(int Seed, double DropMessages, double DropAcks, double Duplicate, double Reorder);

    /// <summary>
    /// 100,000 messages; 5% of all packets duplicated, 5% overtaken. Drops: 1 sequence message in 2,000, and no acks.
    /// Why so few: each lost sequence message costs a full retransmission timeout, at least 400 ms by WCF's rule
    /// (RTO = max(400 ms + SRTT, ...)), during which the ordered window cannot slide; at 10% drops the session moves
    /// about 13-16 messages a second (the heavy-loss test below), so 100,000 would take some two hours. Why no lost
    /// acks: with flow control on, a lost ack can stall the session for good (see the skipped test below).
    /// </summary>
    [Fact]
    public async Task ReliableSessionActor_must_deliver_every_message_exactly_once_in_order_through_a_lossy_wire()
    {
        var chaos = new Chaos(Seed: 20260801, DropMessages: 0.0005, DropAcks: 0, Duplicate: 0.05, Reorder: 0.05);

        var result = await RunAsync(SessionSettings.From(Sys), chaos, Count, TimeSpan.FromSeconds(120), stallAfter: TimeSpan.FromSeconds(10));

        AssertExactlyOnceInOrder(result, Count);
        Assert.True(result.Wire.DroppedMessages > 0 && result.Wire.Duplicated > 0 && result.Wire.Reordered > 0,
            "the wire should really have dropped, duplicated and reordered");
    }

    /// <summary>
    /// One packet in ten dropped, whatever it is (messages, retransmissions, acks, the end marker), plus duplicates and
    /// reordering; flow control off (with it, lost acks stall the session: see below), so the receiver's window
    /// overflows too and those drops are recovered the same way. Few messages: every loss costs a retry timeout.
    /// </summary>
    [Fact]
    public async Task ReliableSessionActor_must_deliver_every_message_exactly_once_in_order_through_a_wire_that_drops_one_packet_in_ten()
    {
        const int count = 300;
        var chaos = new Chaos(Seed: 20260802, DropMessages: 0.10, DropAcks: 0.10, Duplicate: 0.05, Reorder: 0.05);
        var settings = SessionSettings.From(Sys) with { FlowControlEnabled = false };

        // A try fails one time in five here (the resend or its ack lost), so long backoffs are legitimate: no stall check.
        var result = await RunAsync(settings, chaos, count, TimeSpan.FromSeconds(120), stallAfter: null);

        AssertExactlyOnceInOrder(result, count);
        Assert.True(result.Wire.DroppedMessages > 10 && result.Wire.DroppedAcks > 0, "the wire should really have been lossy");
    }

    /// <summary>
    /// As the first test, with 1% of acks dropped. A sender whose peer advertised BufferRemaining 0 sends nothing until
    /// the peer's one "room again" ack arrives; it has nothing in flight, so no retry timer runs, and it never polls.
    /// When that ack is lost the wire goes silent for good (seen here every 10,000-20,000 messages; each time one
    /// AckRequested to B, which the session should send itself, gets it going again).
    /// </summary>
    [Fact]
    public async Task ReliableSessionActor_must_deliver_every_message_through_a_wire_that_also_drops_acks_with_flow_control_on()
    {
        var chaos = new Chaos(Seed: 20260803, DropMessages: 0.0005, DropAcks: 0.01, Duplicate: 0.05, Reorder: 0.05);

        var result = await RunAsync(SessionSettings.From(Sys), chaos, Count, TimeSpan.FromSeconds(120), stallAfter: TimeSpan.FromSeconds(10));

        AssertExactlyOnceInOrder(result, Count);
    }

    private static void AssertExactlyOnceInOrder(Result result, int count)
    {
        Assert.Equal(0, result.Stalls);
        Assert.Equal(count, result.Delivered);
        Assert.Equal(0, result.Missing);
        Assert.Equal(0, result.Duplicates);
        Assert.Equal(0, result.OutOfOrder);
        Assert.True(result.InputCompleted, "B never saw the end of A's sequence");
        Assert.Equal(count + 1, result.OutputClosedAt); // the end marker follows the last message
    }

    public sealed record Result(int Delivered, int Missing, int Duplicates, int OutOfOrder, bool InputCompleted,
        long? OutputClosedAt, LossyWire.Stats Wire, int Stalls, TimeSpan Elapsed);

    private const string AToB = "urn:uuid:a-to-b";
    private const string BToA = "urn:uuid:b-to-a";

    /// <summary>
    /// Runs one session through the wire until everything is delivered and both ends report the close, or until
    /// <paramref name="limit"/>; gives up early when the wire has been silent for <paramref name="stallAfter"/> with
    /// work left. That must be longer than any legitimate silence: a retry timeout after several failed tries in a row
    /// (about 0.4 s doubling: 6.5 s after 4), which is only likely when acks are dropped often.
    /// </summary>
    private async Task<Result> RunAsync(ReliableSessionSettings settings, Chaos chaos, int count, TimeSpan limit, TimeSpan? stallAfter)
    {
        var monitor = CreateTestProbe("monitor");
        var wire = Sys.ActorOf(Props.Create(() => new LossyWire(chaos)), "wire");
        var producer = Sys.ActorOf(Props.Create(() => new Producer(count, monitor.Ref)), "producer");
        var consumer = Sys.ActorOf(Props.Create(() => new Consumer(count, producer, monitor.Ref)), "consumer");
        // Small measured round trip: the retransmission timeout is then as short as WCF's rule allows (400 ms + SRTT).
        var rtt = TimeSpan.FromMilliseconds(5);
        var a = Sys.ActorOf(ReliableSessionActor.Props(settings, AToB, BToA, producer, wire, rtt), "a");
        var b = Sys.ActorOf(ReliableSessionActor.Props(settings, BToA, AToB, consumer, wire, rtt), "b");
        wire.Tell(new LossyWire.Connect(a, b));
        consumer.Tell(new Consumer.Start(b));
        producer.Tell(new Producer.Start(a));

        var clock = Stopwatch.StartNew();
        Consumer.Done? done = null;
        long? outputClosedAt = null;
        var inputCompleted = false;
        var delivered = 0;
        var lastPrint = TimeSpan.Zero;
        var lastCheck = TimeSpan.Zero;
        var lastActivity = -1L;
        var silentSince = TimeSpan.Zero;
        var stalls = 0;
        var gaveUp = false;
        while (!gaveUp && (done is null || outputClosedAt is null || !inputCompleted))
        {
            var remaining = limit - clock.Elapsed;
            if (remaining <= TimeSpan.Zero) break;
            var message = await monitor.ReceiveOneAsync(remaining < TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1));
            switch (message)
            {
                case Consumer.Progress progress:
                    delivered = progress.Delivered;
                    break;
                case Consumer.Done d:
                    done = d;
                    break;
                case InputCompleted:
                    inputCompleted = true;
                    break;
                case OutputClosed closed:
                    outputClosedAt = closed.LastNumber;
                    break;
                case SessionFaulted fault:
                    Assert.Fail($"{monitor.LastSender.Path.Name}'s session faulted: {fault}");
                    break;
            }
            if (clock.Elapsed - lastCheck < TimeSpan.FromSeconds(1)) continue;
            lastCheck = clock.Elapsed;
            var stats = await wire.Ask<LossyWire.Stats>(LossyWire.GetStats.Instance, TimeSpan.FromSeconds(5));
            if (clock.Elapsed - lastPrint >= TimeSpan.FromSeconds(5))
            {
                lastPrint = clock.Elapsed;
                _output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s: {delivered} delivered; wire {stats}");
            }
            if (stats.Forwarded + stats.Dropped != lastActivity)
            {
                lastActivity = stats.Forwarded + stats.Dropped;
                silentSince = clock.Elapsed;
            }
            else if (clock.Elapsed - silentSince >= stallAfter)
            {
                stalls++;
                _output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s: STALLED at {delivered} delivered: no packet on the wire for {stallAfter.Value.TotalSeconds} s");
                gaveUp = true;
            }
        }
        var elapsed = clock.Elapsed;
        var wireStats = await wire.Ask<LossyWire.Stats>(LossyWire.GetStats.Instance, TimeSpan.FromSeconds(5));
        var snapshot = done ?? await consumer.Ask<Consumer.Done>(Consumer.Report.Instance, TimeSpan.FromSeconds(5));
        var result = new Result(snapshot.Delivered, snapshot.Missing, snapshot.Duplicates, snapshot.OutOfOrder, inputCompleted,
            outputClosedAt, wireStats, stalls, elapsed);
        _output.WriteLine($"chaos {chaos}, flow control {(settings.FlowControlEnabled ? "on" : "off")}");
        _output.WriteLine($"delivered {result.Delivered}/{count} in {elapsed.TotalSeconds:F1} s " +
                          $"({result.Delivered / elapsed.TotalSeconds:F0} msg/s); missing {result.Missing}, duplicates {result.Duplicates}, " +
                          $"out of order {result.OutOfOrder}; input completed {inputCompleted}, output closed at {outputClosedAt}; stalls {stalls}");
        _output.WriteLine($"wire {wireStats}");
        Assert.True(done is not null && outputClosedAt is not null && inputCompleted,
            $"not finished within {limit.TotalSeconds} s{(gaveUp ? " (stalled)" : "")}: {result.Delivered} of {count} delivered");
        return result;
    }

    /// <summary>
    /// The transport: an Outbound packet from one end arrives as an Inbound packet at the other, unless dropped; some
    /// are delivered twice, some held back until 1-3 later packets to the same end have passed them (so they are
    /// overtaken). Holding by count rather than by time keeps the reordering tight: Akka's scheduler ticks every
    /// 10 ms, so "a few ms" would really be 10-20 ms, and with an ordered window every held packet stalls the stream
    /// for that long. A held packet that nothing overtakes is let go by a flush timer after one tick.
    /// </summary>
    public sealed class LossyWire : ReceiveActor, IWithTimers
    {
        public sealed record Connect(IActorRef A, IActorRef B);

        public sealed class GetStats
        {
            public static readonly GetStats Instance = new();
        }

        public sealed record Stats(long Forwarded, long Dropped, long DroppedMessages, long DroppedAcks, long Duplicated, long Reordered)
        {
            public override string ToString() =>
                $"forwarded {Forwarded}, dropped {Dropped} ({DroppedMessages} sequence messages, {DroppedAcks} acks), " +
                $"duplicated {Duplicated}, reordered {Reordered}";
        }

        private sealed class Flush
        {
            public static readonly Flush Instance = new();
        }

        private readonly Chaos _chaos;
        private readonly Random _random;
        private readonly List<(IActorRef To, Inbound Inbound, int After)> _held = [];
        private IActorRef _a = ActorRefs.Nobody;
        private IActorRef _b = ActorRefs.Nobody;
        private long _forwarded, _dropped, _droppedMessages, _droppedAcks, _duplicated, _reordered;

        public ITimerScheduler Timers { get; set; } = null!;

        public LossyWire(Chaos chaos)
        {
            _chaos = chaos;
            _random = new Random(chaos.Seed);
            Receive<Connect>(c => (_a, _b) = (c.A, c.B));
            Receive<Outbound>(OnOutbound);
            Receive<Flush>(_ =>
            {
                foreach (var (to, inbound, _) in _held) Forward(to, inbound);
                _held.Clear();
            });
            Receive<GetStats>(_ => Sender.Tell(new Stats(_forwarded, _dropped, _droppedMessages, _droppedAcks, _duplicated, _reordered)));
        }

        private void OnOutbound(Outbound outbound)
        {
            var to = Sender.Equals(_a) ? _b : _a;
            var packet = outbound.Packet;
            if (_random.NextDouble() < (packet is SequencePacket ? _chaos.DropMessages : _chaos.DropAcks))
            {
                _dropped++;
                if (packet is SequencePacket) _droppedMessages++;
                else if (packet is AckPacket) _droppedAcks++;
                return;
            }
            var copies = _random.NextDouble() < _chaos.Duplicate ? 2 : 1;
            if (copies == 2) _duplicated++;
            for (var i = 0; i < copies; i++)
            {
                var inbound = new Inbound(packet, Self);
                if (_random.NextDouble() < _chaos.Reorder)
                {
                    _reordered++;
                    _held.Add((to, inbound, 1 + _random.Next(3)));
                    if (!Timers.IsTimerActive(Flush.Instance)) Timers.StartSingleTimer(Flush.Instance, Flush.Instance, TimeSpan.FromMilliseconds(10));
                    continue;
                }
                Forward(to, inbound);
                // Those held for this end that this packet was the last to overtake go now, behind it.
                for (var h = 0; h < _held.Count; h++)
                {
                    var held = _held[h];
                    if (!held.To.Equals(to)) continue;
                    if (held.After > 1)
                    {
                        _held[h] = held with { After = held.After - 1 };
                        continue;
                    }
                    Forward(to, held.Inbound);
                    _held.RemoveAt(h--);
                }
            }
        }

        private void Forward(IActorRef to, Inbound inbound)
        {
            to.Tell(inbound, Self);
            _forwarded++;
        }
    }

    /// <summary>
    /// A's owner: sends 1..count, never more than <see cref="Ahead"/> beyond what the consumer has taken (the session
    /// queues whatever does not fit its window, and this keeps that queue bounded), then closes the output.
    /// </summary>
    private sealed class Producer : ReceiveActor
    {
        public sealed record Start(IActorRef Session);

        private const int Ahead = 2_048;
        private readonly int _count;
        private IActorRef _session = ActorRefs.Nobody;
        private int _next = 1;
        private int _taken;

        public Producer(int count, IActorRef monitor)
        {
            _count = count;
            Receive<Start>(s =>
            {
                _session = s.Session;
                TopUp();
            });
            Receive<Consumer.Taken>(t =>
            {
                _taken = t.Count;
                TopUp();
            });
            Receive<OutputClosed>(m => monitor.Forward(m));
            Receive<SessionFaulted>(m => monitor.Forward(m));
            Receive<Deliver>(_ => { });
            Receive<InputCompleted>(_ => { });
        }

        private void TopUp()
        {
            while (_next <= _count && _next - _taken <= Ahead) _session.Tell(new Send(_next++));
            if (_next > _count && _taken == _count) _session.Tell(new CloseOutput(EndMarker: true));
        }
    }

    /// <summary>B's owner: keeps a few RequestNext outstanding and checks that payload n is the n-th delivery.</summary>
    private sealed class Consumer : ReceiveActor
    {
        public sealed record Start(IActorRef Session);

        public sealed record Taken(int Count);

        public sealed record Progress(int Delivered);

        public sealed record Done(int Delivered, int Missing, int Duplicates, int OutOfOrder);

        public sealed class Report
        {
            public static readonly Report Instance = new();
        }

        private const int Demand = 32;
        private const int ProgressEvery = 100;
        private readonly int _count;
        private readonly bool[] _seen;
        private IActorRef _session = ActorRefs.Nobody;
        private int _delivered;
        private int _duplicates;
        private int _outOfOrder;
        private int _expected = 1;

        public Consumer(int count, IActorRef producer, IActorRef monitor)
        {
            _count = count;
            _seen = new bool[count + 1];
            Receive<Start>(s =>
            {
                _session = s.Session;
                for (var i = 0; i < Demand; i++) _session.Tell(RequestNext.Instance);
            });
            Receive<Deliver>(d =>
            {
                var payload = (int)d.Payload;
                if (payload < 1 || payload > _count || _seen[payload]) _duplicates++;
                else _seen[payload] = true;
                if (payload != _expected || d.Number != payload) _outOfOrder++;
                _expected = payload + 1;
                _delivered++;
                _session.Tell(RequestNext.Instance);
                if (_delivered % 256 == 0 || _delivered == _count) producer.Tell(new Taken(_delivered));
                if (_delivered % ProgressEvery == 0) monitor.Tell(new Progress(_delivered));
                if (_delivered == _count) monitor.Tell(Snapshot());
            });
            Receive<Report>(_ => Sender.Tell(Snapshot()));
            Receive<InputCompleted>(m => monitor.Forward(m));
            Receive<SessionFaulted>(m => monitor.Forward(m));
            Receive<OutputClosed>(_ => { });
        }

        private Done Snapshot() => new(_delivered, _seen.Skip(1).Count(s => !s), _duplicates, _outOfOrder);
    }
}
