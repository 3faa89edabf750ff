using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.TransferWindows;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;

namespace AkkaPortShare.ReliableSessions;

/// <summary>
/// One end of a reliable session: an outgoing sequence (numbering, transfer window, retransmission with a doubling
/// timeout, flow control from the peer's BufferRemaining) and an incoming one (receive window, duplicate and
/// beyond-window drops, batched acknowledgements). It is keyed by its sequence identifiers, not by a connection:
/// packets may arrive through any transport, and replies go to the one the last packet came through, so a session
/// outlives a reconnect. The same actor serves a WCF service's sessions and any Akka code that wants one.
/// </summary>
public sealed class ReliableSessionActor : ReceiveActor, IWithTimers
{
    private sealed class AckDue { public static readonly AckDue Instance = new(); }
    private sealed class RetransmitDue { public static readonly RetransmitDue Instance = new(); }
    private sealed class InactivityDue { public static readonly InactivityDue Instance = new(); }
    private sealed class PollDue { public static readonly PollDue Instance = new(); }
    private sealed class ReconnectResendDue { public static readonly ReconnectResendDue Instance = new(); }

    /// <summary>
    /// Everything that changes; the windows themselves are mutable, owned by this actor only. There is no "faulted"
    /// here: a fault stops the actor, and the rest of the handler that found it returns at once (the handlers below
    /// return false for "faulted, stop here").
    /// </summary>
    /// <param name="EndMarkerNumber">The number the bare end marker went out with, once it has (a resend of it is Last too).</param>
    private sealed record State(IActorRef? Transport, int Demand, bool OutputClosing, bool OutputClosedSent, bool InputCompletedSent,
        long? EndMarkerNumber);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    // Time is the scheduler's (Akka's ITimeProvider), so specs can run on the TestKit's TestScheduler. Its Now, not
    // its MonotonicClock: a TestScheduler advances the first only.
    private readonly ITimeProvider _time = Context.System.Scheduler;
    private readonly DateTimeOffset _startedAt;
    private readonly ReliableSessionSettings _settings;
    private readonly string _outgoingId;
    private readonly string _incomingId;
    private readonly IActorRef _owner;
    private readonly SendWindow<object?> _send;
    private readonly ReceiveWindow<object?> _receive;
    private readonly AcknowledgementPolicy _ackPolicy;
    private readonly Queue<(object? Payload, bool Last)> _waiting = new();
    private readonly List<long> _acked = [];
    private readonly Action<ReceiveOutcome>? _dropped;
    private State _state;
    private TimeSpan? _lastReconnectResend; // when the peer last reconnected and what was in flight was resent
    private static readonly TimeSpan MinReconnectResendInterval = TimeSpan.FromMilliseconds(10);

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="outgoingId">The sequence this end sends on.</param>
    /// <param name="incomingId">The sequence this end receives on.</param>
    /// <param name="owner">Gets <see cref="Deliver"/>, <see cref="OutputClosed"/>, <see cref="InputCompleted"/>, <see cref="SessionFaulted"/>.</param>
    /// <param name="transport">Where packets go until one arrives through another transport; may be null.</param>
    /// <param name="measuredRoundTrip">The handshake's round trip, which seeds the retransmission timeout.</param>
    /// <param name="dropped">
    /// Called on this actor's thread for each incoming message it drops (Duplicate or BeyondWindow): for counters,
    /// so it must be quick and must not block.
    /// </param>
    public static Props Props(ReliableSessionSettings settings, string outgoingId, string incomingId, IActorRef owner,
        IActorRef? transport = null, TimeSpan? measuredRoundTrip = null, Action<ReceiveOutcome>? dropped = null) =>
        Akka.Actor.Props.Create(() => new ReliableSessionActor(settings, outgoingId, incomingId, owner, transport, measuredRoundTrip, dropped));

    public ReliableSessionActor(ReliableSessionSettings settings, string outgoingId, string incomingId, IActorRef owner,
        IActorRef? transport, TimeSpan? measuredRoundTrip, Action<ReceiveOutcome>? dropped = null)
    {
        _settings = settings;
        _dropped = dropped;
        _outgoingId = outgoingId;
        _incomingId = incomingId;
        _owner = owner;
        _send = new SendWindow<object?>(settings.MaxTransferWindowSize, settings.MaxRetryCount,
            measuredRoundTrip ?? settings.InitialRoundTrip, settings.FlowControlEnabled);
        _receive = new ReceiveWindow<object?>(settings.MaxTransferWindowSize, settings.Ordered);
        _ackPolicy = new AcknowledgementPolicy(settings.MaxTransferWindowSize, settings.FlowControlEnabled);
        _startedAt = _time.Now;
        _state = new State(transport, Demand: 0, OutputClosing: false, OutputClosedSent: false, InputCompletedSent: false,
            EndMarkerNumber: null);
        Active();
    }

    /// <summary>Time since this session started, as the windows count it.</summary>
    private TimeSpan Now => _time.Now - _startedAt;

    protected override void PreStart() => ResetInactivity();

    private void Active()
    {
        Receive<Inbound>(OnInbound);
        Receive<Send>(s =>
        {
            if (_state.OutputClosing)
            {
                _log.Warning("Session {0}: Send after CloseOutput ignored", _outgoingId);
                return;
            }
            _waiting.Enqueue((s.Payload, false));
            SendWhatFits();
        });
        Receive<CloseOutput>(close =>
        {
            if (_state.OutputClosing) return;
            _state = _state with { OutputClosing = true };
            if (close.EndMarker) _waiting.Enqueue((null, true));
            if (!SendWhatFits()) return;
            // Without an end marker (WS-RM 1.1: the owner sends CloseSequence once everything is acknowledged) nothing
            // in flight asks the peer for its acknowledgement, and a closing peer may not send one by itself: WCF's
            // client cancels its acknowledgement timer when it starts to close, so the close would wait for a
            // retransmission timeout (seconds, more under load, past the client's CloseTimeout). Ask now, as WCF's
            // own sender does when it closes a 1.1 sequence with messages unacknowledged; a message still waiting
            // for room asks when it goes (SendWhatFits).
            if (!close.EndMarker && _waiting.Count == 0 && !_send.AllAcknowledged) Transmit(new AckRequestPacket(_outgoingId));
            ReportOutputClosedWhenDone();
        });
        Receive<RequestNext>(_ =>
        {
            _state = _state with { Demand = _state.Demand + 1 };
            DeliverWhatIsAsked();
        });
        Receive<ReportAcknowledgement>(report =>
        {
            // The owner sends it in its own answer: as good as a standalone acknowledgement.
            var ack = CurrentAck();
            AckSent();
            Sender.Tell(new AcknowledgementReport(ack, report.Purpose));
        });
        Receive<AckDue>(_ => SendAck());
        Receive<RetransmitDue>(_ => OnRetransmitDue());
        Receive<PeerReconnected>(_ => OnPeerReconnected());
        Receive<ReconnectResendDue>(_ => ResendAfterReconnect());
        Receive<PollDue>(_ =>
        {
            if (!BlockedByPeer) return;
            // The peer said it has no room and nothing is in flight to retry: ask again, in case its
            // "room again" acknowledgement was lost (WCF's client polls the same way).
            Transmit(new AckRequestPacket(_outgoingId));
            Timers.StartSingleTimer(PollDue.Instance, PollDue.Instance, _send.RetransmissionTimeout);
        });
        Receive<InactivityDue>(_ => Fault(FaultKind.SequenceTerminated,
            $"The inactivity timeout of ({_settings.InactivityTimeout}) has been exceeded.", _incomingId));
    }

    private void OnInbound(Inbound inbound)
    {
        _state = _state with { Transport = inbound.Transport };
        ResetInactivity();
        switch (inbound.Packet)
        {
            case SequencePacket { SequenceId: var id } message when id == _incomingId:
                if (!OnSequenceMessage(message)) return;
                if (message.Ack is { SequenceId: var ackedId } piggybacked && ackedId == _outgoingId) OnAck(piggybacked);
                break;
            case AckPacket { SequenceId: var id } ack when id == _outgoingId:
                OnAck(ack);
                break;
            case AckRequestPacket { SequenceId: var id } when id == _incomingId:
                // Always answered, even when nothing new arrived: the peer polls with it.
                SendAck();
                break;
            case EndOfSequencePacket { SequenceId: var id } end when id == _incomingId:
                if (!_receive.TrySetLastNumber(end.LastNumber))
                {
                    Fault(FaultKind.LastMessageNumberExceeded,
                        $"Sequence {_incomingId} cannot end at {end.LastNumber}: a later message was received.", _incomingId);
                    return;
                }
                SendAck();
                DeliverWhatIsAsked();
                break;
            default:
                _log.Warning("Session {0}: a packet for unknown sequence {1} ignored", _outgoingId, inbound.Packet.SequenceId);
                break;
        }
    }

    /// <returns>False when the message faulted the session.</returns>
    private bool OnSequenceMessage(SequencePacket message)
    {
        if (message.Number > _settings.MaxMessageNumber)
        {
            Fault(FaultKind.MessageNumberRollover,
                $"Message {message.Number} of sequence {_incomingId} is beyond the maximum {_settings.MaxMessageNumber}.", _incomingId);
            return false;
        }
        var lastWasKnown = _receive.LastNumber.HasValue;
        var outcome = _receive.Receive(message.Number, message.Payload, message.Last);
        if (outcome == ReceiveOutcome.Invalid)
        {
            Fault(FaultKind.LastMessageNumberExceeded,
                $"Message {message.Number} is not valid for sequence {_incomingId} (last is {_receive.LastNumber}).", _incomingId);
            return false;
        }
        if (outcome is ReceiveOutcome.Duplicate or ReceiveOutcome.BeyondWindow) _dropped?.Invoke(outcome);
        var action = _ackPolicy.OnReceived(outcome, message.AckRequested, !lastWasKnown && _receive.LastNumber.HasValue);
        // Deliver first: an owner already asking takes the message, so the acknowledgement advertises that room
        // instead of a momentary zero followed at once by a second "room again" acknowledgement.
        DeliverWhatIsAsked();
        switch (action)
        {
            case AckAction.SendNow:
                SendAck();
                break;
            case AckAction.Schedule when !Timers.IsTimerActive(AckDue.Instance):
                Timers.StartSingleTimer(AckDue.Instance, AckDue.Instance, _settings.AcknowledgementInterval);
                break;
        }
        return true;
    }

    private void DeliverWhatIsAsked()
    {
        // Deliver while the owner asks; a bare end marker is taken without demand since it carries nothing. Nothing
        // is delivered while a message of the owner waits for room in the send window: a peer that acknowledges
        // nothing cannot make the owner produce replies without end (WCF's sender blocks the service there); its
        // messages stay in the receive window, and BufferRemaining tells it to wait.
        while (_receive.TryPeek(out _, out var next) && (next is null || _state.Demand > 0 && _waiting.Count == 0))
        {
            _receive.TryTake(out var number, out var payload);
            if (payload is not null)
            {
                _state = _state with { Demand = _state.Demand - 1 };
                _owner.Tell(new Deliver(number, payload));
            }
            if (_ackPolicy.OnTaken(_receive.BufferRemaining) == AckAction.SendNow) SendAck();
        }
        if (_receive.AllTaken && !_state.InputCompletedSent)
        {
            _state = _state with { InputCompletedSent = true };
            _owner.Tell(InputCompleted.Instance);
        }
    }

    private void OnAck(AckPacket ack)
    {
        _acked.Clear();
        if (_send.Acknowledge(ack.Ranges, ack.BufferRemaining, Now, _acked) == AckVerdict.Invalid)
        {
            Fault(FaultKind.InvalidAcknowledgement, $"The acknowledgement of sequence {_outgoingId} covers messages never sent.",
                _outgoingId, ack.Ranges);
            return;
        }
        if (!SendWhatFits()) return;
        ScheduleRetransmission();
        DeliverWhatIsAsked(); // the send window may have room again for the owner's replies
        ReportOutputClosedWhenDone();
    }

    private void ReportOutputClosedWhenDone()
    {
        if (!_state.OutputClosing || _state.OutputClosedSent || _waiting.Count > 0 || !_send.AllAcknowledged) return;
        _state = _state with { OutputClosedSent = true };
        _owner.Tell(new OutputClosed(_send.LastNumberSent));
    }

    /// <returns>False when the session faulted (its message numbers are used up).</returns>
    private bool SendWhatFits()
    {
        while (_waiting.Count > 0 && _send.CanSend)
        {
            if (_send.LastNumberSent >= _settings.MaxMessageNumber)
            {
                // The next number would pass the maximum: WCF's sender faults the same way (it stops at Int64.MaxValue).
                Fault(FaultKind.MessageNumberRollover,
                    $"Sequence {_outgoingId} has used every message number up to its maximum {_settings.MaxMessageNumber}.", _outgoingId);
                return false;
            }
            var (payload, last) = _waiting.Dequeue();
            var number = _send.Add(payload, Now);
            if (last) _state = _state with { EndMarkerNumber = number };
            // The end marker, or the last message of an output being closed, asks for its acknowledgement: the close
            // waits for it (see CloseOutput).
            var lastOfClosing = _state.OutputClosing && _waiting.Count == 0;
            Transmit(new SequencePacket(_outgoingId, number, last, _send.AckRequestDue || last || lastOfClosing, payload, CurrentAck()));
        }
        ScheduleRetransmission();
        if (BlockedByPeer && !Timers.IsTimerActive(PollDue.Instance))
            Timers.StartSingleTimer(PollDue.Instance, PollDue.Instance, _send.RetransmissionTimeout);
        return true;
    }

    /// <summary>Messages wait, none is in flight, and still nothing may go: the peer's buffer is full.</summary>
    private bool BlockedByPeer => _waiting.Count > 0 && _send.InFlight == 0 && !_send.CanSend;

    private void OnRetransmitDue()
    {
        if (_send.NextRetransmissionDue is not { } due || due > Now)
        {
            ScheduleRetransmission();
            return;
        }
        var retry = _send.Retransmit(Now);
        _log.Debug("Session {0}: retransmitting message {1}", _outgoingId, retry.Number);
        if (retry.Exhausted)
        {
            Fault(FaultKind.SequenceTerminated,
                $"The maximum retry count ({_settings.MaxRetryCount}) was reached for message {retry.Number} of sequence {_outgoingId}.",
                _outgoingId);
            return;
        }
        _send.TryGetUnacknowledged(retry.Number, out var payload);
        var last = retry.Number == _state.EndMarkerNumber;
        Transmit(new SequencePacket(_outgoingId, retry.Number, last, AckRequested: true, payload, CurrentAck()));
        ScheduleRetransmission();
    }

    private void OnPeerReconnected()
    {
        // At most once per round trip (the estimate, not the backed-off timeout: that one grows with every retry into
        // a dead connection, and quick cuts would then skip the very resend that ends the wait): a client that
        // reconnects again and again gets at most a window per round trip. A reconnection within it is deferred to
        // its end, never dropped: what the last resend put on a connection that was cut again is lost with it, and a
        // peer whose own messages are all acknowledged sends nothing more to prompt another (found in
        // MovedSessionSpec under load: four reconnections 74-332 ms apart, each skipped, and the reply the client
        // waited for left to a retry timeout grown past its 60 s).
        var interval = Max(_send.SmoothedRoundTrip, MinReconnectResendInterval);
        if (_lastReconnectResend is { } last && Now - last < interval)
        {
            _log.Debug("Session {0}: the peer reconnected {1:F0} ms after the last resend: resent when the round trip has passed",
                _outgoingId, (Now - last).TotalMilliseconds);
            if (!Timers.IsTimerActive(ReconnectResendDue.Instance))
                Timers.StartSingleTimer(ReconnectResendDue.Instance, ReconnectResendDue.Instance, last + interval - Now);
            return;
        }
        ResendAfterReconnect();
    }

    private void ResendAfterReconnect()
    {
        Timers.Cancel(ReconnectResendDue.Instance);
        _lastReconnectResend = Now;
        var numbers = _send.ResendAfterReconnect(Now);
        if (_log.IsDebugEnabled)
            _log.Debug("Session {0}: the peer reconnected: resending {1}", _outgoingId, numbers.Count == 0 ? "nothing" : string.Join(",", numbers));
        foreach (var number in numbers)
        {
            _send.TryGetUnacknowledged(number, out var payload);
            // One ack request, on the last: the peer answers with one acknowledgement of all of them.
            Transmit(new SequencePacket(_outgoingId, number, number == _state.EndMarkerNumber, AckRequested: number == numbers[^1],
                payload, CurrentAck()));
        }
        ScheduleRetransmission();
    }

    private void ScheduleRetransmission()
    {
        if (_send.NextRetransmissionDue is { } due)
            Timers.StartSingleTimer(RetransmitDue.Instance, RetransmitDue.Instance, Max(due - Now, TimeSpan.FromMilliseconds(1)));
        else
            Timers.Cancel(RetransmitDue.Instance);
    }

    private AckPacket CurrentAck() =>
        new(_incomingId, _receive.Received.Ranges.ToArray(),
            _settings.FlowControlEnabled ? _receive.BufferRemaining : null, Final: _receive.IsComplete);

    private void SendAck()
    {
        var ack = CurrentAck();
        Transmit(ack);
    }

    private void Transmit(IPacket packet)
    {
        // Any outgoing packet carries the current acknowledgement, so a pending standalone one is no longer due.
        if (packet is AckPacket or SequencePacket) AckSent();
        // Without a transport the packet is lost like on a broken connection; retransmission covers it.
        _state.Transport?.Tell(new Outbound(packet));
    }

    private void AckSent()
    {
        Timers.Cancel(AckDue.Instance);
        _ackPolicy.OnAckSent(_settings.FlowControlEnabled ? _receive.BufferRemaining : int.MaxValue);
    }

    private void ResetInactivity() =>
        Timers.StartSingleTimer(InactivityDue.Instance, InactivityDue.Instance, _settings.InactivityTimeout);

    /// <summary>
    /// Reports the fault and stops: a failed session is over (its owner answers the peer). The caller returns at once,
    /// so there is one report per session; messages still in the mailbox are not processed after a stop.
    /// </summary>
    private void Fault(FaultKind kind, string reason, string sequenceId, IReadOnlyList<SequenceRange>? ranges = null)
    {
        _log.Warning("Session {0} faulted ({1}): {2}", _outgoingId, kind, reason);
        _owner.Tell(new SessionFaulted(kind, reason, sequenceId, ranges));
        Context.Stop(Self);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
