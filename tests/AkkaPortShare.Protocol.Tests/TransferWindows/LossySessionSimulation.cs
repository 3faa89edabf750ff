using AkkaPortShare.Protocol.TransferWindows;

namespace AkkaPortShare.Protocol.Tests.TransferWindows;

/// <summary>
/// A discrete-event simulation of one reliable sequence: a <see cref="SendWindow{T}"/> and a
/// <see cref="ReceiveWindow{T}"/> + <see cref="AcknowledgementPolicy"/> joined by two lossy channels (drop, duplicate,
/// reorder through random latency), a service that takes messages at a varying pace (with occasional stalls so flow
/// control engages), and a simulated clock. Everything random comes from one seeded Random, so a run is reproducible.
/// </summary>
internal sealed class LossySessionSimulation
{
    private static readonly TimeSpan AckInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private readonly Options _options;
    private readonly Random _random;
    private readonly PriorityQueue<Event, (long Ticks, long Sequence)> _events = new();
    private readonly SendWindow<long> _sender;
    private readonly ReceiveWindow<long> _receiver;
    private readonly AcknowledgementPolicy _policy;
    private readonly List<long> _newlyAcknowledged = [];
    private long _eventSequence;
    private long _now;
    private long _nextPayload = 1;
    private bool _retryTimerPending;
    private bool _pollPending;
    private bool _serviceBusy;
    private int _ackTimerEpoch;

    public LossySessionSimulation(Options options)
    {
        _options = options;
        _random = new Random(options.Seed);
        _sender = new SendWindow<long>(options.Window, options.MaxRetryCount, TimeSpan.FromMilliseconds(40), options.FlowControl);
        _receiver = new ReceiveWindow<long>(options.Window, options.Ordered);
        _policy = new AcknowledgementPolicy(options.Window, options.FlowControl);
    }

    public List<long> Delivered { get; } = [];

    public int BeyondWindowCount { get; private set; }

    public int MaxInFlight { get; private set; }

    public int Retransmissions { get; private set; }

    public int DataPacketsDropped { get; private set; }

    public int ReceiverDuplicates { get; private set; }

    public bool Exhausted { get; private set; }


    /// <summary>How often the sender had messages waiting but a quota of zero or less (flow control engaged).</summary>
    public int QuotaStalls { get; private set; }

    /// <summary>Acks the service's taking provoked after a zero BufferRemaining (the fresh-ack rule).</summary>
    public int FreshAcks { get; private set; }

    public TimeSpan Elapsed => TimeSpan.FromTicks(_now);

    public void Run()
    {
        Pump();
        long events = 0;
        while (_events.TryDequeue(out Event e, out (long Ticks, long Sequence) at))
        {
            if (++events > 5_000_000)
            {
                throw new InvalidOperationException("The simulation did not settle.");
            }

            _now = at.Ticks;
            switch (e.Kind)
            {
                case Kind.Data: OnData(e.Number, e.Payload, e.Flag); break;
                case Kind.Ack: OnAck(e.Ranges!, e.BufferRemaining); break;
                case Kind.AckRequest: Reply(_policy.OnAckRequested()); break;
                case Kind.RetryTimer: OnRetryTimer(); break;
                case Kind.AckTimer: OnAckTimer(e.Number); break;
                case Kind.ServiceDone: OnServiceDone(); break;
                case Kind.Poll: OnPoll(); break;
            }

            if (Exhausted || (Delivered.Count == _options.Messages && _sender.AllAcknowledged))
            {
                return;
            }
        }
    }

    // ---- sender ----

    private void Pump()
    {
        while (_nextPayload <= _options.Messages && _sender.CanSend)
        {
            long payload = _nextPayload++;
            long number = _sender.Add(payload, Now);
            MaxInFlight = Math.Max(MaxInFlight, _sender.InFlight);
            Transmit(new Event(Kind.Data, number, payload, _sender.AckRequestDue, null, null));
        }

        if (_nextPayload <= _options.Messages && _sender.Quota <= 0)
        {
            QuotaStalls++;
        }

        if (!_retryTimerPending && _sender.NextRetransmissionDue is TimeSpan due)
        {
            _retryTimerPending = true;
            Schedule(due.Ticks, new Event(Kind.RetryTimer));
        }

        // A sender stalled by a zero quota with nothing outstanding has no retry timer to provoke an ack: it polls.
        if (!_pollPending && _nextPayload <= _options.Messages && !_sender.CanSend && _sender.AllAcknowledged)
        {
            _pollPending = true;
            Schedule(_now + PollInterval.Ticks, new Event(Kind.Poll));
        }
    }

    private void OnAck(SequenceRange[] ranges, int? bufferRemaining)
    {
        _newlyAcknowledged.Clear();
        AckVerdict verdict = _sender.Acknowledge(ranges, bufferRemaining, Now, _newlyAcknowledged);
        if (verdict != AckVerdict.Ok)
        {
            throw new InvalidOperationException($"The receiver acknowledged something never sent: {string.Join(",", ranges)}");
        }

        Pump();
    }

    private void OnRetryTimer()
    {
        _retryTimerPending = false;
        if (_sender.NextRetransmissionDue is TimeSpan due && due.Ticks <= _now)
        {
            RetransmitResult result = _sender.Retransmit(Now);
            if (result.Exhausted)
            {
                Exhausted = true;
                return;
            }

            Retransmissions++;
            _sender.TryGetUnacknowledged(result.Number, out long payload);
            Transmit(new Event(Kind.Data, result.Number, payload, false, null, null));
        }

        Pump();
    }

    private void OnPoll()
    {
        _pollPending = false;
        if (!_sender.CanSend && _sender.AllAcknowledged)
        {
            Transmit(new Event(Kind.AckRequest));
        }

        Pump();
    }

    // ---- receiver ----

    private void OnData(long number, long payload, bool ackRequested)
    {
        bool lastKnown = _receiver.LastNumber.HasValue;
        ReceiveOutcome outcome = _receiver.Receive(number, payload, isLast: number == _options.Messages);
        if (outcome == ReceiveOutcome.Invalid)
        {
            throw new InvalidOperationException($"Message {number} was refused as invalid.");
        }

        if (outcome == ReceiveOutcome.BeyondWindow)
        {
            BeyondWindowCount++;
        }
        else if (outcome == ReceiveOutcome.Duplicate)
        {
            ReceiverDuplicates++;
        }

        Reply(_policy.OnReceived(outcome, ackRequested, !lastKnown && _receiver.LastNumber.HasValue));
        StartService();
    }

    private void Reply(AckAction action)
    {
        if (action == AckAction.SendNow)
        {
            SendAck();
        }
        else if (action == AckAction.Schedule)
        {
            Schedule(_now + AckInterval.Ticks, new Event(Kind.AckTimer, _ackTimerEpoch));
        }
    }

    private void OnAckTimer(long epoch)
    {
        // A timer whose batch already went out (an earlier ack reset the count) is stale.
        if (epoch == _ackTimerEpoch && _policy.Unacknowledged > 0)
        {
            SendAck();
        }
    }

    private void SendAck()
    {
        int remaining = _receiver.BufferRemaining;
        var ranges = new SequenceRange[_receiver.Received.Ranges.Count];
        for (int i = 0; i < ranges.Length; i++)
        {
            ranges[i] = _receiver.Received.Ranges[i];
        }

        Transmit(new Event(Kind.Ack, 0, 0, false, ranges, _options.FlowControl ? remaining : null));
        _policy.OnAckSent(remaining);
        _ackTimerEpoch++;
    }

    private void StartService()
    {
        if (_serviceBusy || _receiver.Undelivered == 0)
        {
            return;
        }

        _serviceBusy = true;

        // Usually quick; now and then the service stalls long enough for the buffer to fill.
        double ms = _random.NextDouble() < 0.01 ? 300 : _random.NextDouble() * 4;
        Schedule(_now + TimeSpan.FromMilliseconds(ms).Ticks, new Event(Kind.ServiceDone));
    }

    private void OnServiceDone()
    {
        _serviceBusy = false;
        if (_receiver.TryTake(out long number, out long payload))
        {
            if (payload != number)
            {
                throw new InvalidOperationException($"Message {number} carried payload {payload}.");
            }

            Delivered.Add(number);
            AckAction action = _policy.OnTaken(_receiver.BufferRemaining);
            FreshAcks += action == AckAction.SendNow ? 1 : 0;
            Reply(action);
        }

        StartService();
    }

    // ---- the lossy network ----

    private void Transmit(Event packet)
    {
        if (_random.NextDouble() < _options.DropRate)
        {
            if (packet.Kind == Kind.Data)
            {
                DataPacketsDropped++;
            }

            return;
        }

        Schedule(_now + Latency(), packet);
        if (_random.NextDouble() < _options.DuplicateRate)
        {
            Schedule(_now + Latency(), packet);
        }
    }

    // 5–35 ms: the spread is wider than the gap between packets, so they overtake each other.
    private long Latency() => TimeSpan.FromMilliseconds(5 + (_random.NextDouble() * 30)).Ticks;

    private void Schedule(long ticks, Event e) => _events.Enqueue(e, (ticks, _eventSequence++));

    private TimeSpan Now => TimeSpan.FromTicks(_now);

    internal sealed record Options(int Seed, int Messages, int Window, bool Ordered, bool FlowControl)
    {
        public double DropRate { get; init; } = 0.2;

        public double DuplicateRate { get; init; } = 0.1;

        // The channel is far lossier than TCP (a data packet AND each ack may vanish), so allow more retries than
        // WCF's 8 to keep the run about delivery, not about giving up.
        public int MaxRetryCount { get; init; } = 20;
    }

    private enum Kind { Data, Ack, AckRequest, RetryTimer, AckTimer, ServiceDone, Poll }

    private readonly record struct Event(Kind Kind, long Number = 0, long Payload = 0, bool Flag = false,
        SequenceRange[]? Ranges = null, int? BufferRemaining = null);
}
