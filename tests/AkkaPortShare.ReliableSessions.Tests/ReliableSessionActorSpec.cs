using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.ReliableSessions.Tests.TestSupport;
using AkkaPortShare.Protocol.TransferWindows;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;

namespace AkkaPortShare.ReliableSessions.Tests;

/// <summary>
/// One end of a reliable session, driven packet by packet: a probe is the transport (it receives every
/// <see cref="Outbound"/> and stands as the <see cref="Inbound.Transport"/> of what the test feeds in), another is the
/// owner (Deliver, OutputClosed, InputCompleted, SessionFaulted). The session sends on <see cref="Out"/> and receives
/// on <see cref="In"/>.
/// </summary>
/// <remarks>
/// Unless a test is about a timer, the acknowledgement interval is long (so the only acks are the ones a trigger
/// sends at once) and the round trip is WCF's unknown 2 s (RTO 6 s, so nothing is retransmitted while a test runs).
/// Time is the test scheduler's: a timer fires only when a test advances the clock (see <see cref="AdvanceUntilAsync"/>),
/// so timing is checked in the session's own time, without waiting for it.
/// </remarks>
public sealed class ReliableSessionActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string Config = """
        akka.actor.provider = local
        akka.loglevel = WARNING
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        akka-port-share.reliable-session {
          max-transfer-window-size = 4
          acknowledgement-interval = 10s
        }
        """;

    private const string Out = "urn:uuid:out";
    private const string In = "urn:uuid:in";

    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private readonly ReliableSessionSettings _settings;
    private readonly TestProbe _transport;
    private readonly TestProbe _owner;

    public ReliableSessionActorSpec() : base(Config, "ReliableSessionActorSpec")
    {
        _settings = SessionSettings.From(Sys);
        _transport = CreateTestProbe("transport");
        _owner = CreateTestProbe("owner");
    }

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    /// <summary>
    /// Returns once <paramref name="session"/> has handled everything told to it before (Identify is answered in
    /// mailbox order), so its timers are set and what it sent in return is with the probes. A stopped session's
    /// answer may never come: a short real-time bound covers that.
    /// </summary>
    private static async Task SettledAsync(IActorRef session)
    {
        var identity = session.Ask<ActorIdentity>(new Identify(null));
        await Task.WhenAny(identity, Task.Delay(TimeSpan.FromSeconds(1)));
    }

    /// <summary>
    /// Advances the clock in steps of 10 ms until <paramref name="probe"/> has a message (or <paramref name="limit"/>
    /// passes) and returns how far it went: the time the session took, in its own time.
    /// </summary>
    private async Task<TimeSpan> AdvanceUntilAsync(IActorRef session, TestProbe probe, TimeSpan limit)
    {
        var step = TimeSpan.FromMilliseconds(10);
        var elapsed = TimeSpan.Zero;
        await SettledAsync(session);
        while (!probe.HasMessages && elapsed < limit)
        {
            Clock.Advance(step);
            elapsed += step;
            await SettledAsync(session);
        }
        return elapsed;
    }

    private IActorRef Start(ReliableSessionSettings? settings = null, TimeSpan? measuredRoundTrip = null) =>
        Sys.ActorOf(ReliableSessionActor.Props(settings ?? _settings, Out, In, _owner.Ref, _transport.Ref, measuredRoundTrip));

    private void Receive(IActorRef session, IPacket packet, TestProbe? through = null) =>
        session.Tell(new Inbound(packet, (through ?? _transport).Ref));

    private static SequencePacket Message(long number, object? payload = null, bool ackRequested = false, bool last = false) =>
        new(In, number, last, ackRequested, payload ?? $"m{number}");

    private static AckPacket Ack(int? bufferRemaining, params (long Lower, long Upper)[] ranges) =>
        new(Out, ranges.Select(r => new SequenceRange(r.Lower, r.Upper)).ToArray(), bufferRemaining);

    private async Task<T> SentAsync<T>(TestProbe? transport = null) where T : IPacket
    {
        var outbound = await (transport ?? _transport).ExpectMsgAsync<Outbound>(TimeSpan.FromSeconds(5));
        return Assert.IsType<T>(outbound.Packet);
    }

    /// <summary>The next outbound packet must be a standalone acknowledgement of the incoming sequence.</summary>
    private async Task<AckPacket> AckSentAsync(TestProbe? transport = null)
    {
        var ack = await SentAsync<AckPacket>(transport);
        Assert.Equal(In, ack.SequenceId);
        return ack;
    }

    private static void AssertRanges(AckPacket ack, params (long Lower, long Upper)[] expected) =>
        Assert.Equal(expected.Select(r => new SequenceRange(r.Lower, r.Upper)), ack.Ranges);

    private async Task NothingSentAsync() => await _transport.ExpectNoMsgAsync(Quiet);

    private async Task<SequencePacket> MessageSentAsync(long number, object? payload, bool ackRequested)
    {
        var message = await SentAsync<SequencePacket>();
        Assert.Equal(Out, message.SequenceId);
        Assert.Equal(number, message.Number);
        Assert.Equal(payload, message.Payload);
        Assert.Equal(ackRequested, message.AckRequested);
        return message;
    }

    private void Send(IActorRef session, params string[] payloads)
    {
        foreach (var payload in payloads) session.Tell(new Send(payload), _owner.Ref);
    }

    // ---------------------------------------------------------------- receiving: window, duplicates, acks

    [Fact]
    public async Task ReliableSessionActor_must_drop_a_message_beyond_the_window_without_acknowledging_it()
    {
        var session = Start();

        // Window 4, nothing taken by the owner: 1-4 fill it.
        for (var n = 1; n <= 3; n++) Receive(session, Message(n));
        await NothingSentAsync();
        Receive(session, Message(4));
        var full = await AckSentAsync(); // the count reached the window
        AssertRanges(full, (1, 4));
        Assert.Equal(0, full.BufferRemaining);

        // 5 does not fit: dropped, not recorded, no ack of its own.
        Receive(session, Message(5));
        await NothingSentAsync();
        Receive(session, new AckRequestPacket(In));
        var after = await AckSentAsync();
        AssertRanges(after, (1, 4));
        Assert.Equal(0, after.BufferRemaining);

        // Asking for an ack on a dropped message is still answered, with the same ranges.
        Receive(session, Message(5, ackRequested: true));
        AssertRanges(await AckSentAsync(), (1, 4));

        session.Tell(RequestNext.Instance, _owner.Ref);
        Assert.Equal(new Deliver(1, "m1"), await _owner.ExpectMsgAsync<Deliver>());
        await AckSentAsync(); // room opened after a 0 was advertised

        // Now 5 fits, and is the 5 the sender resends.
        Receive(session, Message(5, ackRequested: true));
        var accepted = await AckSentAsync();
        AssertRanges(accepted, (1, 5));
        Assert.Equal(0, accepted.BufferRemaining);
    }

    [Fact]
    public async Task ReliableSessionActor_must_count_out_of_order_messages_against_the_window()
    {
        var session = Start();

        // 1 undelivered, 3 and 4 held behind the gap at 2: 3 of 4 slots used, and the slot of 2 is reserved.
        Receive(session, Message(1));
        Receive(session, Message(3));
        Receive(session, Message(4));
        Receive(session, Message(5));
        Receive(session, new AckRequestPacket(In));
        var ack = await AckSentAsync();
        AssertRanges(ack, (1, 1), (3, 4));
        Assert.Equal(1, ack.BufferRemaining);

        // Further ahead still: refused even with an ack requested.
        Receive(session, Message(6, ackRequested: true));
        AssertRanges(await AckSentAsync(), (1, 1), (3, 4));

        // The gap itself always fits.
        Receive(session, Message(2, ackRequested: true));
        var filled = await AckSentAsync();
        AssertRanges(filled, (1, 4));
        Assert.Equal(0, filled.BufferRemaining);
        await _owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // nothing asked for, nothing delivered
    }

    [Fact]
    public async Task ReliableSessionActor_must_bound_an_unordered_window_by_the_undelivered_count()
    {
        var session = Start(_settings with { Ordered = false });

        Receive(session, Message(7));
        Receive(session, Message(2));
        Receive(session, Message(9));
        Receive(session, Message(4)); // 4 held, the window is full
        var full = await AckSentAsync();
        AssertRanges(full, (2, 2), (4, 4), (7, 7), (9, 9));
        Assert.Equal(0, full.BufferRemaining);

        Receive(session, Message(1, ackRequested: true));
        AssertRanges(await AckSentAsync(), (2, 2), (4, 4), (7, 7), (9, 9));
    }

    [Fact]
    public async Task ReliableSessionActor_must_drop_duplicates_and_acknowledge_them_at_once()
    {
        var session = Start();

        Receive(session, Message(1));
        await NothingSentAsync(); // batched: the (10 s) timer runs

        Receive(session, Message(1, payload: "again"));
        var ack = await AckSentAsync();
        AssertRanges(ack, (1, 1));
        Assert.Equal(3, ack.BufferRemaining);

        session.Tell(RequestNext.Instance, _owner.Ref);
        session.Tell(RequestNext.Instance, _owner.Ref);
        Assert.Equal(new Deliver(1, "m1"), await _owner.ExpectMsgAsync<Deliver>());

        // Also after delivery: acknowledged again, never delivered again.
        Receive(session, Message(1, payload: "once more"));
        AssertRanges(await AckSentAsync(), (1, 1));
        await _owner.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task ReliableSessionActor_must_acknowledge_at_once_a_message_that_requests_it()
    {
        var session = Start();

        Receive(session, Message(1, ackRequested: true));

        var ack = await AckSentAsync();
        AssertRanges(ack, (1, 1));
        Assert.Equal(3, ack.BufferRemaining);
        Assert.False(ack.Final);
    }

    [Fact]
    public async Task ReliableSessionActor_must_acknowledge_at_once_when_the_unacknowledged_count_reaches_the_window()
    {
        var session = Start(_settings with { MaxTransferWindowSize = 6 });
        for (var n = 1; n <= 5; n++) Receive(session, Message(n));
        session.Tell(RequestNext.Instance, _owner.Ref); // taking one does not change the count of unacknowledged arrivals
        await _owner.ExpectMsgAsync<Deliver>();
        await NothingSentAsync();

        Receive(session, Message(6));

        AssertRanges(await AckSentAsync(), (1, 6));
    }

    [Fact]
    public async Task ReliableSessionActor_must_acknowledge_a_large_window_every_quarter_and_announce_when_all_is_taken()
    {
        // Window 64: WCF's sender asks only with the message that fills its window; the session acknowledges every
        // 16 on its own, so the sender's window slides while it sends.
        var session = Start(_settings with { MaxTransferWindowSize = 64 });
        for (var n = 1; n <= 15; n++) Receive(session, Message(n));
        await NothingSentAsync();
        Receive(session, Message(16));
        var quarter = await AckSentAsync();
        AssertRanges(quarter, (1, 16));
        Assert.Equal(48, quarter.BufferRemaining);

        for (var n = 17; n <= 31; n++) Receive(session, Message(n));
        await NothingSentAsync();
        Receive(session, Message(32));
        var half = await AckSentAsync();
        AssertRanges(half, (1, 32));
        Assert.Equal(32, half.BufferRemaining);

        // The owner takes 15: the room grew by less than a quarter since the last ack; nothing yet.
        for (var n = 1; n <= 15; n++)
        {
            session.Tell(RequestNext.Instance, _owner.Ref);
            Assert.Equal(n, (await _owner.ExpectMsgAsync<Deliver>()).Number);
        }
        await NothingSentAsync();
        // The 16th: grown by a quarter, announced.
        session.Tell(RequestNext.Instance, _owner.Ref);
        await _owner.ExpectMsgAsync<Deliver>();
        Assert.Equal(48, (await AckSentAsync()).BufferRemaining);

        // An ack that told of less than the whole window (the sender's AckRequested came with 4 untaken), then
        // everything taken: announced although the room grew by less than a quarter.
        var other = Start(_settings with { MaxTransferWindowSize = 64 });
        for (var n = 1; n <= 4; n++) Receive(other, Message(n, ackRequested: n == 4));
        Assert.Equal(60, (await AckSentAsync()).BufferRemaining);
        for (var n = 1; n <= 3; n++) other.Tell(RequestNext.Instance, _owner.Ref);
        for (var n = 1; n <= 3; n++) await _owner.ExpectMsgAsync<Deliver>();
        await NothingSentAsync();
        other.Tell(RequestNext.Instance, _owner.Ref);
        Assert.Equal(4, (await _owner.ExpectMsgAsync<Deliver>()).Number);
        var empty = await AckSentAsync();
        AssertRanges(empty, (1, 4));
        Assert.Equal(64, empty.BufferRemaining);
        await NothingSentAsync();
    }

    [Fact]
    public async Task ReliableSessionActor_must_batch_other_arrivals_into_one_ack_after_the_acknowledgement_interval()
    {
        var interval = TimeSpan.FromMilliseconds(250);
        var session = Start(_settings with { AcknowledgementInterval = interval, MaxTransferWindowSize = 8 });

        Receive(session, Message(1));
        Receive(session, Message(2));
        Receive(session, Message(3));

        // One ack for all three (a per-message ack would have said [1]).
        var elapsed = await AdvanceUntilAsync(session, _transport, interval * 4);
        var ack = await AckSentAsync();
        AssertRanges(ack, (1, 3));
        Assert.Equal(5, ack.BufferRemaining);
        Assert.True(elapsed >= interval / 2, $"the batched ack came after {elapsed.TotalMilliseconds} ms");
        Assert.True(elapsed <= interval, $"the batched ack came after {elapsed.TotalMilliseconds} ms, beyond the interval");
        Clock.Advance(interval * 3);
        await NothingSentAsync();

        // The next arrival starts a new interval.
        Receive(session, Message(4));
        await SettledAsync(session);
        Assert.False(_transport.HasMessages, "acknowledged before the interval");
        Clock.Advance(interval);
        AssertRanges(await AckSentAsync(), (1, 4));
    }

    [Fact]
    public async Task ReliableSessionActor_must_piggyback_the_pending_ack_on_an_outgoing_message_instead_of_a_standalone_one()
    {
        var interval = TimeSpan.FromMilliseconds(250);
        var session = Start(_settings with { AcknowledgementInterval = interval });

        Receive(session, Message(1));
        Send(session, "reply");

        var reply = await MessageSentAsync(1, "reply", ackRequested: true);
        Assert.NotNull(reply.Ack);
        Assert.Equal(In, reply.Ack!.SequenceId);
        AssertRanges(reply.Ack, (1, 1));
        Assert.Equal(3, reply.Ack.BufferRemaining);
        Clock.Advance(interval * 3);
        await NothingSentAsync(); // the standalone ack is no longer due
    }

    [Fact]
    public async Task ReliableSessionActor_must_always_answer_an_ack_request()
    {
        var session = Start();

        Receive(session, new AckRequestPacket(In));
        var empty = await AckSentAsync();
        Assert.Empty(empty.Ranges);
        Assert.Equal(4, empty.BufferRemaining);

        // Nothing new since: still answered (the peer polls with it).
        Receive(session, new AckRequestPacket(In));
        Assert.Empty((await AckSentAsync()).Ranges);

        Receive(session, Message(1));
        Receive(session, new AckRequestPacket(In));
        AssertRanges(await AckSentAsync(), (1, 1));
        Receive(session, new AckRequestPacket(In));
        AssertRanges(await AckSentAsync(), (1, 1));

        // An ack request for a sequence this end does not receive on is not its to answer.
        Receive(session, new AckRequestPacket("urn:uuid:someone-else"));
        await NothingSentAsync();
    }

    [Fact]
    public async Task ReliableSessionActor_must_advertise_BufferRemaining_only_with_flow_control()
    {
        var withFlowControl = Start();
        Receive(withFlowControl, Message(1));
        Receive(withFlowControl, Message(2, ackRequested: true));
        Assert.Equal(2, (await AckSentAsync()).BufferRemaining);

        var transport = CreateTestProbe();
        var without = Sys.ActorOf(ReliableSessionActor.Props(_settings with { FlowControlEnabled = false }, Out, In,
            _owner.Ref, transport.Ref));
        for (var n = 1; n <= 4; n++) Receive(without, Message(n), transport);
        var full = await AckSentAsync(transport);
        AssertRanges(full, (1, 4));
        Assert.Null(full.BufferRemaining);

        // And no "room again" ack either: nothing was advertised.
        without.Tell(RequestNext.Instance, _owner.Ref);
        await _owner.ExpectMsgAsync<Deliver>();
        await transport.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task ReliableSessionActor_must_send_a_fresh_ack_as_soon_as_room_opens_after_advertising_zero()
    {
        var session = Start();
        for (var n = 1; n <= 4; n++) Receive(session, Message(n));
        Assert.Equal(0, (await AckSentAsync()).BufferRemaining);

        session.Tell(RequestNext.Instance, _owner.Ref);
        Assert.Equal(1, (await _owner.ExpectMsgAsync<Deliver>()).Number);
        var reopened = await AckSentAsync();
        AssertRanges(reopened, (1, 4));
        Assert.Equal(1, reopened.BufferRemaining);

        // Only the first bit of room is announced: the sender knows it is no longer stalled.
        session.Tell(RequestNext.Instance, _owner.Ref);
        Assert.Equal(2, (await _owner.ExpectMsgAsync<Deliver>()).Number);
        await NothingSentAsync();
    }

    // ---------------------------------------------------------------- delivery

    [Fact]
    public async Task ReliableSessionActor_must_deliver_in_order_one_message_per_RequestNext()
    {
        var session = Start();
        Receive(session, Message(3, "c"));
        Receive(session, Message(1, "a"));
        Receive(session, Message(2, "b"));

        await _owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        session.Tell(RequestNext.Instance, _owner.Ref);
        Assert.Equal(new Deliver(1, "a"), await _owner.ExpectMsgAsync<Deliver>());
        await _owner.ExpectNoMsgAsync(Quiet);

        session.Tell(RequestNext.Instance, _owner.Ref);
        session.Tell(RequestNext.Instance, _owner.Ref);
        Assert.Equal(new Deliver(2, "b"), await _owner.ExpectMsgAsync<Deliver>());
        Assert.Equal(new Deliver(3, "c"), await _owner.ExpectMsgAsync<Deliver>());

        // Demand given ahead is kept, but a message behind a gap waits for it.
        session.Tell(RequestNext.Instance, _owner.Ref);
        session.Tell(RequestNext.Instance, _owner.Ref);
        Receive(session, Message(5, "e"));
        await _owner.ExpectNoMsgAsync(Quiet);
        Receive(session, Message(4, "d"));
        Assert.Equal(new Deliver(4, "d"), await _owner.ExpectMsgAsync<Deliver>());
        Assert.Equal(new Deliver(5, "e"), await _owner.ExpectMsgAsync<Deliver>());
    }

    [Fact]
    public async Task ReliableSessionActor_must_deliver_on_arrival_when_unordered()
    {
        var session = Start(_settings with { Ordered = false });
        for (var i = 0; i < 3; i++) session.Tell(RequestNext.Instance, _owner.Ref);

        Receive(session, Message(3, "c"));
        Assert.Equal(new Deliver(3, "c"), await _owner.ExpectMsgAsync<Deliver>());
        Receive(session, Message(1, "a"));
        Assert.Equal(new Deliver(1, "a"), await _owner.ExpectMsgAsync<Deliver>());
        Receive(session, Message(2, "b"));
        Assert.Equal(new Deliver(2, "b"), await _owner.ExpectMsgAsync<Deliver>());

        // Still exactly once.
        Receive(session, Message(3, "c"));
        session.Tell(RequestNext.Instance, _owner.Ref);
        await _owner.ExpectNoMsgAsync(Quiet);
    }

    // ---------------------------------------------------------------- end of the incoming sequence

    [Fact]
    public async Task ReliableSessionActor_must_complete_the_input_once_the_end_is_known_and_everything_is_taken()
    {
        var session = Start();
        Receive(session, Message(1));
        Receive(session, Message(2));

        Receive(session, new EndOfSequencePacket(In, 2));
        var final = await AckSentAsync(); // the end is answered at once, as the final ack
        AssertRanges(final, (1, 2));
        Assert.True(final.Final);
        await _owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        session.Tell(RequestNext.Instance, _owner.Ref);
        Assert.Equal(1, (await _owner.ExpectMsgAsync<Deliver>()).Number);
        await _owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        session.Tell(RequestNext.Instance, _owner.Ref);
        Assert.Equal(2, (await _owner.ExpectMsgAsync<Deliver>()).Number);
        await _owner.ExpectMsgAsync<InputCompleted>();
    }

    [Fact]
    public async Task ReliableSessionActor_must_wait_for_the_missing_messages_before_the_end_that_is_announced()
    {
        var session = Start();
        session.Tell(RequestNext.Instance, _owner.Ref);
        session.Tell(RequestNext.Instance, _owner.Ref);
        Receive(session, Message(2));

        Receive(session, new EndOfSequencePacket(In, 2));
        var ack = await AckSentAsync();
        AssertRanges(ack, (2, 2));
        Assert.False(ack.Final);
        await _owner.ExpectNoMsgAsync(Quiet);

        Receive(session, Message(1));
        Assert.Equal(1, (await _owner.ExpectMsgAsync<Deliver>()).Number);
        Assert.Equal(2, (await _owner.ExpectMsgAsync<Deliver>()).Number);
        await _owner.ExpectMsgAsync<InputCompleted>();
    }

    [Fact]
    public async Task ReliableSessionActor_must_complete_an_empty_input_at_once()
    {
        var session = Start();

        Receive(session, new EndOfSequencePacket(In, 0));

        Assert.True((await AckSentAsync()).Final);
        await _owner.ExpectMsgAsync<InputCompleted>();
    }

    [Fact]
    public async Task ReliableSessionActor_must_take_a_bare_last_message_as_the_end_without_delivering_it()
    {
        var session = Start();
        Receive(session, Message(1, "a"));

        // WS-RM Feb 2005's LastMessage: no payload, acknowledged at once since the end is now known.
        Receive(session, new SequencePacket(In, 2, Last: true, AckRequested: false, Payload: null));
        var ack = await AckSentAsync();
        AssertRanges(ack, (1, 2));
        Assert.True(ack.Final);

        session.Tell(RequestNext.Instance, _owner.Ref);
        Assert.Equal(new Deliver(1, "a"), await _owner.ExpectMsgAsync<Deliver>());
        await _owner.ExpectMsgAsync<InputCompleted>();
    }

    [Fact]
    public async Task ReliableSessionActor_must_fault_on_an_end_before_a_message_already_received()
    {
        var session = Start();
        Watch(session);
        Receive(session, Message(3));

        Receive(session, new EndOfSequencePacket(In, 2));

        var fault = await _owner.ExpectMsgAsync<SessionFaulted>();
        Assert.Equal(FaultKind.LastMessageNumberExceeded, fault.Kind);
        await ExpectTerminatedAsync(session);
    }

    [Fact]
    public async Task ReliableSessionActor_must_fault_on_a_message_after_the_last_one()
    {
        var session = Start();
        Watch(session);
        Receive(session, new EndOfSequencePacket(In, 1));
        await AckSentAsync();

        Receive(session, Message(2));

        Assert.Equal(FaultKind.LastMessageNumberExceeded, (await _owner.ExpectMsgAsync<SessionFaulted>()).Kind);
        await ExpectTerminatedAsync(session);
    }

    // ---------------------------------------------------------------- sending: window, flow control

    [Fact]
    public async Task ReliableSessionActor_must_keep_at_most_the_window_in_flight_and_request_an_ack_on_the_message_that_fills_it()
    {
        var session = Start();
        Send(session, Enumerable.Range(1, 10).Select(i => $"p{i}").ToArray());

        // The congestion window starts at 1 and grows by what each ack slides off, up to max-transfer-window-size (4).
        await MessageSentAsync(1, "p1", ackRequested: true);
        await NothingSentAsync();

        Receive(session, Ack(null, (1, 1)));
        await MessageSentAsync(2, "p2", ackRequested: false);
        await MessageSentAsync(3, "p3", ackRequested: true);
        await NothingSentAsync();

        Receive(session, Ack(null, (1, 3)));
        await MessageSentAsync(4, "p4", ackRequested: false);
        await MessageSentAsync(5, "p5", ackRequested: false);
        await MessageSentAsync(6, "p6", ackRequested: false);
        await MessageSentAsync(7, "p7", ackRequested: true);
        await NothingSentAsync(); // 4 in flight: the window is full

        // Acked ahead of a gap still holds its slot: the window slides only from its start.
        Receive(session, Ack(null, (1, 3), (5, 7)));
        await NothingSentAsync();

        Receive(session, Ack(null, (1, 7)));
        await MessageSentAsync(8, "p8", ackRequested: false);
        await MessageSentAsync(9, "p9", ackRequested: false);
        await MessageSentAsync(10, "p10", ackRequested: false);
        await NothingSentAsync();
    }

    [Fact]
    public async Task ReliableSessionActor_must_obey_the_flow_control_quota_from_the_peers_BufferRemaining()
    {
        var session = Start(_settings with { MaxTransferWindowSize = 8 });
        Send(session, "p1", "p2", "p3", "p4", "p5", "p6");
        await MessageSentAsync(1, "p1", ackRequested: true);

        // The peer's buffer is full: the congestion window has room (2) but no quota.
        Receive(session, Ack(0, (1, 1)));
        await NothingSentAsync();

        // One slot: exactly one message, which asks for an ack since it uses the last of the quota.
        Receive(session, Ack(1, (1, 1)));
        await MessageSentAsync(2, "p2", ackRequested: true);
        await NothingSentAsync();

        // Plenty: the congestion window (3 now) is the limit again.
        Receive(session, Ack(8, (1, 2)));
        await MessageSentAsync(3, "p3", ackRequested: false);
        await MessageSentAsync(4, "p4", ackRequested: false);
        await MessageSentAsync(5, "p5", ackRequested: true);
        await NothingSentAsync();
    }

    [Fact]
    public async Task ReliableSessionActor_must_ignore_BufferRemaining_without_flow_control()
    {
        var session = Start(_settings with { FlowControlEnabled = false });
        Send(session, "p1", "p2", "p3");
        await MessageSentAsync(1, "p1", ackRequested: true);

        Receive(session, Ack(0, (1, 1)));

        await MessageSentAsync(2, "p2", ackRequested: false);
        await MessageSentAsync(3, "p3", ackRequested: true);
    }

    [Fact]
    public async Task ReliableSessionActor_must_apply_an_ack_piggybacked_on_an_incoming_message()
    {
        var session = Start();
        Send(session, "p1", "p2");
        await MessageSentAsync(1, "p1", ackRequested: true);

        Receive(session, Message(1) with { Ack = Ack(null, (1, 1)) });

        await MessageSentAsync(2, "p2", ackRequested: false);
    }

    [Fact]
    public async Task ReliableSessionActor_must_ignore_an_ack_piggybacked_for_another_sequence()
    {
        var session = Start();
        Send(session, "p1", "p2");
        await MessageSentAsync(1, "p1", ackRequested: true);

        // A standalone ack for an unknown sequence is ignored; one riding on a message must be too.
        Receive(session, Message(1) with { Ack = Ack(null, (1, 1)) with { SequenceId = "urn:uuid:someone-else" } });

        await NothingSentAsync();
    }

    [Fact]
    public async Task ReliableSessionActor_must_poll_with_an_ack_request_while_the_peer_advertises_no_room()
    {
        // A lost "room again" ack must not stall the sender for good: with nothing in flight there is no retry timer
        // to provoke a new ack, so a stalled sender has to ask (WCF's client polls with AckRequested, reference 3.5).
        var session = Start(measuredRoundTrip: TimeSpan.FromMilliseconds(10));
        Send(session, "p1", "p2");
        await MessageSentAsync(1, "p1", ackRequested: true);

        Receive(session, Ack(0, (1, 1))); // and the peer's later ack with room in it is lost
        var waited = await AdvanceUntilAsync(session, _transport, TimeSpan.FromSeconds(5));

        Assert.True(waited >= TimeSpan.FromMilliseconds(300), $"polled after {waited.TotalMilliseconds} ms, before a retransmission timeout");
        var poll = await SentAsync<AckRequestPacket>();
        Assert.Equal(Out, poll.SequenceId);
    }

    [Fact]
    public async Task ReliableSessionActor_must_report_one_fault_only()
    {
        var session = Start();
        Watch(session);
        Receive(session, new EndOfSequencePacket(In, 1));
        await AckSentAsync();

        // Beyond the end (a fault), carrying an ack of something never sent (another fault).
        Receive(session, Message(2) with { Ack = Ack(null, (1, 1)) });

        Assert.Equal(FaultKind.LastMessageNumberExceeded, (await _owner.ExpectMsgAsync<SessionFaulted>()).Kind);
        await ExpectTerminatedAsync(session);
        await _owner.ExpectNoMsgAsync(Quiet);
    }

    // ---------------------------------------------------------------- retransmission, faults

    [Fact]
    public async Task ReliableSessionActor_must_retransmit_the_first_unacknowledged_message_with_a_doubling_timeout_then_fault()
    {
        // RTO = max(400 ms + SRTT, SRTT + 4·RTTVAR): about 410 ms from a 10 ms handshake, doubling on every retry.
        var session = Start(_settings with { MaxRetryCount = 2 }, measuredRoundTrip: TimeSpan.FromMilliseconds(10));
        Watch(session);
        Send(session, "p1", "p2", "p3", "p4");
        await MessageSentAsync(1, "p1", ackRequested: true);
        Receive(session, Ack(null, (1, 1)));
        await MessageSentAsync(2, "p2", ackRequested: false);
        await MessageSentAsync(3, "p3", ackRequested: true);

        // Only 2 (the window's first) is resent, with an ack request; 3 is not, and the window drops to 1 so 4 waits.
        var firstAt = await AdvanceUntilAsync(session, _transport, TimeSpan.FromSeconds(10));
        var first = await MessageSentAsync(2, "p2", ackRequested: true);
        var secondAt = firstAt + await AdvanceUntilAsync(session, _transport, TimeSpan.FromSeconds(10));
        await MessageSentAsync(2, "p2", ackRequested: true);

        // max-retry-count = 2: the third retry is refused, and the session is over.
        var faultAt = secondAt + await AdvanceUntilAsync(session, _owner, TimeSpan.FromSeconds(10));
        var fault = await _owner.ExpectMsgAsync<SessionFaulted>();
        Assert.Equal(FaultKind.SequenceTerminated, fault.Kind);
        await ExpectTerminatedAsync(session);
        await _transport.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        var slack = TimeSpan.FromMilliseconds(100);
        Assert.True(firstAt >= TimeSpan.FromMilliseconds(400) - slack, $"first retry after {firstAt.TotalMilliseconds} ms");
        Assert.True(secondAt - firstAt >= TimeSpan.FromMilliseconds(800) - slack,
            $"second retry {(secondAt - firstAt).TotalMilliseconds} ms after the first");
        Assert.True(faultAt - secondAt >= TimeSpan.FromMilliseconds(1600) - slack,
            $"fault {(faultAt - secondAt).TotalMilliseconds} ms after the second retry");
        Assert.NotNull(first.Ack); // a retransmission carries the current ack too
    }

    [Fact]
    public async Task ReliableSessionActor_must_resend_what_is_unacknowledged_at_once_when_the_peer_reconnects_and_retry_from_the_estimate()
    {
        var session = Start(_settings with { MaxRetryCount = 3 }, measuredRoundTrip: TimeSpan.FromMilliseconds(10));
        Send(session, "p1", "p2", "p3");
        await MessageSentAsync(1, "p1", ackRequested: true);
        Receive(session, Ack(null, (1, 1)));
        await MessageSentAsync(2, "p2", ackRequested: false);
        await MessageSentAsync(3, "p3", ackRequested: true);
        // Two retries into a dead connection: the timeout is four times the estimate now (about 1.6 s).
        await AdvanceUntilAsync(session, _transport, TimeSpan.FromSeconds(5));
        await MessageSentAsync(2, "p2", ackRequested: true);
        await AdvanceUntilAsync(session, _transport, TimeSpan.FromSeconds(5));
        await MessageSentAsync(2, "p2", ackRequested: true);

        session.Tell(PeerReconnected.Instance);

        // Everything unacknowledged goes again at once, one ack request on the last.
        var resent2 = await MessageSentAsync(2, "p2", ackRequested: false);
        Assert.NotNull(resent2.Ack);
        await MessageSentAsync(3, "p3", ackRequested: true);
        // Reconnecting again at once resends nothing at once (at most once per round trip), but the resend is not
        // dropped: it comes when the round trip has passed (what the first put on a connection cut again is lost).
        session.Tell(PeerReconnected.Instance);
        await NothingSentAsync();
        var deferred = await AdvanceUntilAsync(session, _transport, TimeSpan.FromSeconds(5));
        Assert.True(deferred <= TimeSpan.FromMilliseconds(100), $"the deferred resend came {deferred.TotalMilliseconds} ms after the reconnection");
        await MessageSentAsync(2, "p2", ackRequested: false);
        await MessageSentAsync(3, "p3", ackRequested: true);
        // The next retry comes after the estimate (about 410 ms), not after the grown timeout.
        var next = await AdvanceUntilAsync(session, _transport, TimeSpan.FromSeconds(5));
        Assert.True(next <= TimeSpan.FromMilliseconds(600), $"the next retry came {next.TotalMilliseconds} ms after the reconnection");
        await MessageSentAsync(2, "p2", ackRequested: true);
        // The reconnection used no retry of 2's: its third timer retry (max-retry-count 3) was still allowed.
        await _owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task ReliableSessionActor_must_restart_the_retry_timeout_once_the_retried_message_is_acknowledged()
    {
        var session = Start(_settings with { MaxRetryCount = 1 }, measuredRoundTrip: TimeSpan.FromMilliseconds(10));
        Send(session, "p1", "p2");
        await MessageSentAsync(1, "p1", ackRequested: true);
        await AdvanceUntilAsync(session, _transport, TimeSpan.FromSeconds(5));
        await MessageSentAsync(1, "p1", ackRequested: true); // retry 1 of 1

        // Acknowledged in time: no fault, the next message goes out with a fresh retry budget.
        Receive(session, Ack(null, (1, 1)));
        await MessageSentAsync(2, "p2", ackRequested: false);
        await AdvanceUntilAsync(session, _transport, TimeSpan.FromSeconds(5));
        await MessageSentAsync(2, "p2", ackRequested: true);
        Receive(session, Ack(null, (1, 2)));
        await SettledAsync(session);
        Clock.Advance(TimeSpan.FromSeconds(2));
        await _owner.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task ReliableSessionActor_must_fault_with_InvalidAcknowledgement_on_an_ack_of_a_number_never_sent()
    {
        var session = Start();
        Watch(session);
        Send(session, "p1");
        await MessageSentAsync(1, "p1", ackRequested: true);

        Receive(session, Ack(null, (1, 2)));

        var fault = await _owner.ExpectMsgAsync<SessionFaulted>();
        Assert.Equal(FaultKind.InvalidAcknowledgement, fault.Kind);
        await ExpectTerminatedAsync(session);
    }

    [Fact]
    public async Task ReliableSessionActor_must_fault_with_MessageNumberRollover_when_its_next_number_would_pass_the_maximum()
    {
        var session = Start(_settings with { MaxMessageNumber = 2 });
        Watch(session);
        Send(session, "p1", "p2", "p3");
        await MessageSentAsync(1, "p1", ackRequested: true);
        Receive(session, Ack(null, (1, 1)));
        Assert.Equal(2, (await SentAsync<SequencePacket>()).Number);

        // p3 would be number 3: the sequence is used up.
        Receive(session, Ack(null, (1, 2)));

        var fault = await _owner.ExpectMsgAsync<SessionFaulted>();
        Assert.Equal(FaultKind.MessageNumberRollover, fault.Kind);
        Assert.Equal(Out, fault.SequenceId);
        await ExpectTerminatedAsync(session);
    }

    [Fact]
    public async Task ReliableSessionActor_must_fault_with_MessageNumberRollover_on_a_received_number_beyond_the_maximum()
    {
        var session = Start(_settings with { MaxMessageNumber = 2 });
        Watch(session);

        Receive(session, Message(3));

        var fault = await _owner.ExpectMsgAsync<SessionFaulted>();
        Assert.Equal(FaultKind.MessageNumberRollover, fault.Kind);
        Assert.Equal(In, fault.SequenceId);
        await ExpectTerminatedAsync(session);
        await _owner.ExpectNoMsgAsync(Quiet); // nothing delivered
    }

    [Fact]
    public async Task ReliableSessionActor_must_report_the_offending_acknowledgement_with_InvalidAcknowledgement()
    {
        var session = Start();
        Receive(session, Ack(null, (1, 3)));

        var fault = await _owner.ExpectMsgAsync<SessionFaulted>();
        Assert.Equal(Out, fault.SequenceId);
        Assert.Equal([new SequenceRange(1, 3)], fault.Ranges);
    }

    [Fact]
    public async Task ReliableSessionActor_must_fault_with_InvalidAcknowledgement_on_an_ack_before_anything_was_sent()
    {
        var session = Start();
        Watch(session);

        Receive(session, Ack(null, (1, 1)));

        Assert.Equal(FaultKind.InvalidAcknowledgement, (await _owner.ExpectMsgAsync<SessionFaulted>()).Kind);
        await ExpectTerminatedAsync(session);
    }

    [Fact]
    public async Task ReliableSessionActor_must_fault_a_silent_session_after_the_inactivity_timeout()
    {
        var timeout = TimeSpan.FromSeconds(1);
        var session = Start(_settings with { InactivityTimeout = timeout });
        Watch(session);

        // Any packet keeps it alive: here ack requests, well inside the timeout, for longer than the timeout.
        var elapsed = TimeSpan.Zero;
        while (elapsed < timeout * 1.5)
        {
            Receive(session, new AckRequestPacket(In));
            await AckSentAsync();
            Clock.Advance(TimeSpan.FromMilliseconds(100));
            elapsed += TimeSpan.FromMilliseconds(100);
        }
        await SettledAsync(session);
        Assert.False(_owner.HasMessages, "the session faulted although packets kept arriving");

        var silent = await AdvanceUntilAsync(session, _owner, TimeSpan.FromSeconds(10));
        var fault = await _owner.ExpectMsgAsync<SessionFaulted>();
        Assert.Equal(FaultKind.SequenceTerminated, fault.Kind);
        Assert.Contains("inactivity", fault.Reason);
        Assert.True(silent >= timeout / 2, $"faulted {silent.TotalMilliseconds} ms after the last packet");
        await ExpectTerminatedAsync(session);
    }

    // ---------------------------------------------------------------- closing the output

    [Fact]
    public async Task ReliableSessionActor_must_close_the_output_with_a_last_message_and_report_it_once_acknowledged()
    {
        var session = Start();
        Send(session, "p1");
        await MessageSentAsync(1, "p1", ackRequested: true);

        session.Tell(new CloseOutput(EndMarker: true), _owner.Ref);
        await NothingSentAsync(); // the window (1) is full

        Receive(session, Ack(null, (1, 1)));
        var last = await MessageSentAsync(2, null, ackRequested: true);
        Assert.True(last.Last);
        await _owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        // Nothing more may be sent.
        Send(session, "late");
        await NothingSentAsync();

        Receive(session, Ack(null, (1, 2)));
        Assert.Equal(new OutputClosed(2), await _owner.ExpectMsgAsync<OutputClosed>());
    }

    [Fact]
    public async Task ReliableSessionActor_must_close_the_output_without_a_marker_once_everything_is_acknowledged()
    {
        var session = Start();
        Send(session, "p1", "p2");
        await MessageSentAsync(1, "p1", ackRequested: true);

        session.Tell(new CloseOutput(EndMarker: false), _owner.Ref);
        Receive(session, Ack(null, (1, 1)));
        // The last message of the closing output asks for its acknowledgement: the close waits for it.
        var second = await MessageSentAsync(2, "p2", ackRequested: true);
        Assert.False(second.Last);
        await NothingSentAsync();
        await _owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        Receive(session, Ack(null, (1, 2)));
        Assert.Equal(new OutputClosed(2), await _owner.ExpectMsgAsync<OutputClosed>());
    }

    [Fact]
    public async Task ReliableSessionActor_must_ask_for_the_acknowledgement_of_what_is_in_flight_when_closing_without_a_marker()
    {
        var session = Start();
        Send(session, "p1");
        await MessageSentAsync(1, "p1", ackRequested: true); // it fills the initial window
        Receive(session, Ack(null, (1, 1)));
        Send(session, "p2");
        await MessageSentAsync(2, "p2", ackRequested: false); // room for it: nothing asked

        // A closing peer may never acknowledge p2 by itself (WCF's client stops its acknowledgement timer once it
        // closes), and the clock stands still here, so no retransmission asks either: the close must ask.
        session.Tell(new CloseOutput(EndMarker: false), _owner.Ref);
        Assert.Equal(Out, (await SentAsync<AckRequestPacket>()).SequenceId);
        await _owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        Receive(session, Ack(null, (1, 2)));
        Assert.Equal(new OutputClosed(2), await _owner.ExpectMsgAsync<OutputClosed>());
        await NothingSentAsync();
    }

    [Fact]
    public async Task ReliableSessionActor_must_report_an_empty_output_closed_at_once()
    {
        var session = Start();

        session.Tell(new CloseOutput(EndMarker: false), _owner.Ref);

        Assert.Equal(new OutputClosed(0), await _owner.ExpectMsgAsync<OutputClosed>());
        await NothingSentAsync();
    }

    [Fact]
    public async Task ReliableSessionActor_must_not_mark_a_retransmitted_message_last_when_closing_without_a_marker()
    {
        var session = Start(measuredRoundTrip: TimeSpan.FromMilliseconds(10));
        Send(session, "p1");
        var original = await MessageSentAsync(1, "p1", ackRequested: true);
        Assert.False(original.Last);

        // 1.1-style close: the owner announces the end itself (CloseSequence), so no message carries Last; the
        // close asks for the acknowledgement of p1 at once, and the resend comes when that goes unanswered.
        session.Tell(new CloseOutput(EndMarker: false), _owner.Ref);
        Assert.Equal(Out, (await SentAsync<AckRequestPacket>()).SequenceId);
        await AdvanceUntilAsync(session, _transport, TimeSpan.FromSeconds(5));
        var resent = await MessageSentAsync(1, "p1", ackRequested: true);

        // A resend must be the same message: a peer that got the original treats a Last copy as a new, conflicting end.
        Assert.False(resent.Last);
    }

    // ---------------------------------------------------------------- reporting the acknowledgement to the owner

    [Fact]
    public async Task ReliableSessionActor_must_report_the_acknowledgement_as_it_stands_after_what_was_told_before()
    {
        var interval = TimeSpan.FromMilliseconds(250);
        var session = Start(_settings with { AcknowledgementInterval = interval });
        Receive(session, Message(1));
        Receive(session, Message(2));

        session.Tell(new ReportAcknowledgement("purpose"), _owner.Ref);

        var report = await _owner.ExpectMsgAsync<AcknowledgementReport>();
        Assert.Equal("purpose", report.Purpose);
        Assert.Equal(In, report.Ack.SequenceId);
        AssertRanges(report.Ack, (1, 2));
        Assert.False(report.Ack.Final);
        // The owner sends it: the standalone acknowledgement that was due is not.
        Clock.Advance(interval * 3);
        await NothingSentAsync();

        // After the end of the sequence (told before the request), the report is the final one.
        Receive(session, new EndOfSequencePacket(In, 2));
        session.Tell(new ReportAcknowledgement("close"), _owner.Ref);
        var final = await _owner.ExpectMsgAsync<AcknowledgementReport>();
        Assert.Equal("close", final.Purpose);
        Assert.True(final.Ack.Final);
    }

    // ---------------------------------------------------------------- reconnect

    [Fact]
    public async Task ReliableSessionActor_must_reply_through_the_transport_the_last_packet_came_through()
    {
        var session = Start();
        Send(session, "p1", "p2");
        await MessageSentAsync(1, "p1", ackRequested: true);

        // The client reconnects: its next packet arrives through another connection.
        var second = CreateTestProbe("second-transport");
        Receive(session, new AckRequestPacket(In), second);
        await AckSentAsync(second);

        Receive(session, Ack(null, (1, 1)), second);
        var message = await SentAsync<SequencePacket>(second);
        Assert.Equal(2, message.Number);
        await _transport.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task ReliableSessionActor_must_retransmit_through_the_new_transport_after_a_reconnect()
    {
        var session = Start(measuredRoundTrip: TimeSpan.FromMilliseconds(10));
        Send(session, "p1");
        await MessageSentAsync(1, "p1", ackRequested: true);

        var second = CreateTestProbe("second-transport");
        Receive(session, new AckRequestPacket(In), second);
        await AckSentAsync(second);

        await AdvanceUntilAsync(session, second, TimeSpan.FromSeconds(5));
        var resent = await SentAsync<SequencePacket>(second);
        Assert.Equal(1, resent.Number);
        Assert.Equal("p1", resent.Payload);
        await _transport.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }
}
