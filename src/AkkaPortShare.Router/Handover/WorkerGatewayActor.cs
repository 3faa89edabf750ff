using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Interop;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Handover;

/// <summary>
/// The router's end of one worker's Unix-domain hand-over channel. Routed sockets go out through it (SCM_RIGHTS)
/// and the router's copy is released at once, so no byte of the session passes the router. The channel also
/// brings back sockets the worker hands back for re-routing, and its end-of-file is the fastest sign that the
/// worker process died. A hand-over is sent from the actor itself when the channel has room (a non-blocking sendmsg,
/// which is nearly always): no thread hop, no wait. Only one that would wait goes to this gateway's sender thread,
/// and the channel is read on a thread of its own, so the actor dispatcher never waits on the channel.
/// </summary>
/// <remarks>
/// A worker that is alive but does not read its channel (stopped, hung) fills the channel's send buffer; then a
/// send would wait: that one goes to the sender thread and is in flight there; the others wait here, at most handover-queue-limit of them,
/// and each has handover-timeout from its arrival to reach the worker. One that does not is answered with
/// ConnectionDispatchFailed, like one whose worker died. The worker stays registered: when it reads again (e.g.
/// SIGCONT) its connections flow again, and one that died is removed when its channel closes.
/// Deadlines are read from the actor system's scheduler (so specs run on TestScheduler): the one in flight on the
/// sender thread is cut short by the actor, which cancels it on the first expiry tick past its deadline.
/// </remarks>
internal sealed class WorkerGatewayActor : ReceiveActor, IWithTimers
{
    private sealed record ChannelClosed(string Reason);

    /// <summary>A hand-over and the time by which it must have reached the worker's channel.</summary>
    private sealed record Outgoing(HandOver HandOver, DateTimeOffset Deadline);

    /// <summary>The hand-over on the sender thread; the actor cancels <paramref name="Expired"/> at its deadline.</summary>
    /// <remarks>Never disposed: the actor may cancel it after the thread is done with it, and without CancelAfter
    /// or a wait handle a CancellationTokenSource holds nothing to release.</remarks>
    private sealed record InFlight(Outgoing Outgoing, CancellationTokenSource Expired);

    // Sender thread to actor: the one hand-over in flight has gone, or will never go.
    // (Hand-overs the actor sends itself never reach the thread: nothing to report.)
    private sealed class Sent { public static readonly Sent Instance = new(); }
    // Told from the sender thread: if the gateway stopped meanwhile, the undelivered-handovers actor answers the client.
    private sealed record NotSent(HandOver HandOver, string Reason, bool ChannelBroken) : ICarriesHandOver;
    private sealed class ExpireQueued { public static readonly ExpireQueued Instance = new(); }

    /// <summary>Waiting hand-overs, oldest first, and the one in flight on the sender thread (null when Idle).</summary>
    private sealed record State(ImmutableQueue<Outgoing> Waiting, int Count, InFlight? Sending)
    {
        public static readonly State Empty = new(ImmutableQueue<Outgoing>.Empty, 0, null);
        public State Enqueue(Outgoing o) => this with { Waiting = Waiting.Enqueue(o), Count = Count + 1 };
        public State Dequeue(out Outgoing next) => this with { Waiting = Waiting.Dequeue(out next), Count = Count - 1 };
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Socket _channel;
    private readonly int _workerPid;
    private readonly RouterSettings _settings;
    private readonly IActorRef _drains;
    // Capacity one: the actor hands the sender thread one hand-over at a time and keeps the rest (and their deadlines).
    private readonly BlockingCollection<InFlight> _toSender = new(boundedCapacity: 1);
    private readonly CancellationTokenSource _stopping = new();
    // The actor's own frame buffer for hand-overs it sends itself (the sender thread has its own).
    private readonly byte[] _payload = new byte[UnixHandover.MaxMessageSize];
    private State _state = State.Empty;
    private readonly HeldConnections _held = HeldConnections.Get(Context.System);
    private readonly HandoverLane _lane;
    // The registry: a hand-over the closed channel could not take goes back there, for another worker of a shared address.
    private readonly IActorRef _registry;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="lane">Shared with the accept thread (see <see cref="HandoverLane"/>); null: this gateway's own, unshared.</param>
    public static Props Props(Socket channel, int workerPid, RouterSettings settings, IActorRef drains, HandoverLane? lane = null) =>
        Akka.Actor.Props.Create(() => new WorkerGatewayActor(channel, workerPid, settings, drains, lane));

    public WorkerGatewayActor(Socket channel, int workerPid, RouterSettings settings, IActorRef drains, HandoverLane? lane)
    {
        _lane = lane ?? new HandoverLane(channel, _held, _log);
        _drains = drains;
        _settings = settings;
        _channel = channel;
        _workerPid = workerPid;
        _registry = Context.Parent;
        Idle();
    }

    /// <summary>Nothing in flight, nothing waiting.</summary>
    private void Idle()
    {
        Receive<HandOver>(h => Send(new Outgoing(h, Deadline())));
        Receive<LanedHandOver>(l =>
        {
            _lane.Received();
            Send(new Outgoing(l.HandOver, Deadline()));
        });
        Receive<ExpireQueued>(_ => { });
        ReceiveChannelClosed();
    }

    /// <summary>One hand-over on the sender thread; later ones wait in <see cref="_state"/>.</summary>
    private void Sending()
    {
        Receive<HandOver>(Enqueue);
        Receive<LanedHandOver>(l =>
        {
            _lane.Received();
            Enqueue(l.HandOver);
        });
        Receive<Sent>(_ => SendNext());
        Receive<NotSent>(n =>
        {
            if (n.ChannelBroken) GiveBack(n.HandOver, n.Reason);
            else Refuse(n.HandOver, n.Reason);
            if (n.ChannelBroken) Self.Tell(new ChannelClosed($"passing a socket failed: {n.Reason}"));
            SendNext();
        });
        Receive<ExpireQueued>(_ => ExpireWaiting());
        ReceiveChannelClosed();
    }

    private void ReceiveChannelClosed() => Receive<ChannelClosed>(c =>
    {
        _lane.Close();
        Context.Parent.Tell(new WorkerChannelClosed(c.Reason));
        Context.Stop(Self);
    });

    private void Enqueue(HandOver handOver)
    {
        if (_state.Count >= _settings.HandoverQueueLimit)
        {
            Refuse(handOver, $"handover-queue-limit {_settings.HandoverQueueLimit} reached: the worker is not taking connections");
            return;
        }
        _state = _state.Enqueue(new Outgoing(handOver, Deadline()));
    }

    // The scheduler's clock (TestScheduler's in specs), never the wall clock: see the remarks.
    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private DateTimeOffset Deadline() => Now + _settings.HandoverTimeout;

    private TimeSpan ExpiryTick => TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond * 10, _settings.HandoverTimeout.Ticks / 10));

    private void SendNext()
    {
        ExpireWaiting();
        while (_state.Count > 0)
        {
            _state = _state.Dequeue(out var next);
            if (!TrySendNow(next, out var channelBroken))
            {
                StartSending(next);
                return;
            }
            if (!channelBroken) continue;
            // ChannelClosed is on its way: the rest cannot go either.
            foreach (var waiting in _state.Waiting) GiveBack(waiting.HandOver, "the worker's hand-over channel failed");
            _state = State.Empty;
        }
        _state = _state with { Sending = null };
        Timers.Cancel(ExpireQueued.Instance);
        _lane.SetBusy(false);
        Become(Idle);
    }

    /// <summary>Nothing in flight: sent from here when the channel has room now, else by the sender thread.</summary>
    private void Send(Outgoing outgoing)
    {
        if (!TrySendNow(outgoing, out _)) StartSending(outgoing);
    }

    /// <summary>
    /// One non-blocking sendmsg from the actor: true when the hand-over is done with (sent, or refused because the
    /// channel failed); false when the channel has no room now, so it must wait on the sender thread.
    /// </summary>
    private bool TrySendNow(Outgoing outgoing, out bool channelBroken)
    {
        channelBroken = false;
        var handOver = outgoing.HandOver;
        try
        {
            var length = HandoverFrame.Write(_payload, handOver.AlreadyRead, handOver.Resumed);
            if (!WithRoomFor(length, () => UnixHandover.TrySend(_channel, _payload.AsSpan(0, length), handOver.Socket))) return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
        {
            Refuse(handOver, e.Message); // this message only: the channel is fine
            return true;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            channelBroken = true;
            GiveBack(handOver, e.Message);
            Self.Tell(new ChannelClosed($"passing a socket failed: {e.Message}"));
            return true;
        }
        try
        {
            UnixHandover.ReleaseAfterHandover(handOver.Socket, handOver.NeverAsync);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            _log.Warning("Passed {0} to worker pid {1}, but releasing the router's copy failed: {2}", handOver, _workerPid, e.Message);
        }
        _held.Release(handOver.Socket);
        return true;
    }

    private void StartSending(Outgoing outgoing)
    {
        // Never blocks: the sender thread has taken the previous one (it answered before this runs), or had none.
        var inFlight = new InFlight(outgoing, new CancellationTokenSource());
        if (!_toSender.TryAdd(inFlight))
        {
            GiveBack(outgoing.HandOver, "the hand-over channel is closing");
            _state = _state with { Sending = null };
            return;
        }
        _state = _state with { Sending = inFlight };
        _lane.SetBusy(true); // the accept thread's hand-overs now queue behind this one
        // While one is in flight, ticks expire the waiting ones and cut the one in flight short at its deadline.
        if (!Timers.IsTimerActive(ExpireQueued.Instance))
            Timers.StartPeriodicTimer(ExpireQueued.Instance, ExpireQueued.Instance, ExpiryTick);
        Become(Sending);
    }

    // Waiting ones past their deadline are answered now, so a stuck worker's clients hear within handover-timeout;
    // the one in flight past its deadline is cancelled, and the sender thread answers NotSent.
    private void ExpireWaiting()
    {
        var now = Now;
        while (!_state.Waiting.IsEmpty && _state.Waiting.Peek().Deadline <= now)
        {
            _state = _state.Dequeue(out var expired);
            Refuse(expired.HandOver, TimedOut);
        }
        if (_state.Sending is { } inFlight && inFlight.Outgoing.Deadline <= now) inFlight.Expired.Cancel();
    }

    protected override void PreStart()
    {
        var self = Self;
        var parent = Context.Parent;
        if (_settings.HandoverSendBuffer > 0) TrySetSendBuffer();
        new Thread(() => SendLoop(self)) { IsBackground = true, Name = $"handover-send-{_workerPid}" }.Start();
        new Thread(() => ReceiveLoop(self, parent)) { IsBackground = true, Name = $"handover-recv-{_workerPid}" }.Start();
    }

    // The kernel queues what the send buffer holds for a worker that stopped reading; those hand-overs are the
    // worker's and wait for it. A small buffer keeps them few (about 11 at 4k against about 280 at Linux's 208k).
    private void TrySetSendBuffer()
    {
        try
        {
            _channel.SendBufferSize = _settings.HandoverSendBuffer;
        }
        catch (SocketException e)
        {
            _log.Warning("Could not set handover-send-buffer on worker pid {0}'s channel: {1}", _workerPid, e.Message);
        }
    }

    private void SendLoop(IActorRef self)
    {
        var payload = new byte[UnixHandover.MaxMessageSize];
        try
        {
            foreach (var (outgoing, expired) in _toSender.GetConsumingEnumerable(_stopping.Token))
            {
                var handOver = outgoing.HandOver;
                if (expired.IsCancellationRequested)
                {
                    self.Tell(new NotSent(handOver, TimedOut, false));
                    continue;
                }
                // The actor cancels `expired` at the deadline (by the scheduler's clock, not this thread's).
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, expired.Token);
                try
                {
                    var length = HandoverFrame.Write(payload, handOver.AlreadyRead, handOver.Resumed);
                    WithRoomFor(length, () => UnixHandover.Send(_channel, payload.AsSpan(0, length), handOver.Socket, deadline.Token));
                    UnixHandover.ReleaseAfterHandover(handOver.Socket, handOver.NeverAsync);
                    _held.Release(handOver.Socket);
                    self.Tell(Sent.Instance);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    // The gateway is stopping: nobody will read a reply, so the registry decides from here.
                    GiveBack(handOver, "the worker's hand-over channel closed");
                    break;
                }
                catch (OperationCanceledException)
                {
                    // Nothing was sent: the worker did not make room in its channel in time.
                    self.Tell(new NotSent(handOver, TimedOut, false));
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
                {
                    self.Tell(new NotSent(handOver, e.Message, false)); // this message only: the channel is fine
                }
                catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
                {
                    self.Tell(new NotSent(handOver, e.Message, true));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping; the one in hand (if any) is answered by PostStop's sweep below.
        }
        // Whatever the actor gave this thread and it did not send never reached the worker: tell those clients.
        while (_toSender.TryTake(out var left)) GiveBack(left.Outgoing.HandOver, "the worker's hand-over channel closed");
    }

    // A SOCK_SEQPACKET message goes whole or not at all, and Linux takes one only if it fits the send buffer
    // (SO_SNDBUF, which the kernel doubles, less 32 bytes). handover-send-buffer keeps that small on purpose; a
    // resumed connection (a moved reliable session) carries up to 64 KiB, so the buffer grows for that one message.
    private T WithRoomFor<T>(int length, Func<T> send)
    {
        if (_settings.HandoverSendBuffer <= 0 || length <= 2 * _settings.HandoverSendBuffer - 64) return send();
        _channel.SendBufferSize = length + 64;
        try
        {
            return send();
        }
        finally
        {
            TrySetSendBuffer();
        }
    }

    private void WithRoomFor(int length, Action send) => WithRoomFor(length, () =>
    {
        send();
        return true;
    });

    private string TimedOut => $"not taken within handover-timeout {_settings.HandoverTimeout}; is the worker stopped?";

    private void ReceiveLoop(IActorRef self, IActorRef registry)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(UnixHandover.MaxMessageSize);
        try
        {
            while (true)
            {
                var length = UnixHandover.Receive(_channel, buffer, out var socket, _stopping.Token);
                if (length == 0)
                {
                    socket?.Dispose();
                    self.Tell(new ChannelClosed("its hand-over channel closed"));
                    return;
                }
                if (socket is not null && HandoverFrame.TryRead(buffer.AsSpan(0, length), out var alreadyRead))
                {
                    registry.Tell(new Reroute(socket, alreadyRead.ToArray()));
                }
                else if (socket is not null && HandoverFrame.TryReadSessionMove(buffer.AsSpan(0, length), out var holder, out var fromPreamble))
                {
                    registry.Tell(new MoveToSessionHolder(socket, holder, fromPreamble.ToArray()));
                }
                else
                {
                    socket?.Dispose();
                    _log.Warning("Worker pid {0} sent a hand-over message that is not a connection; ignored", _workerPid);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            self.Tell(new ChannelClosed($"its hand-over channel failed: {e.Message}"));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Called from the actor and from the sender thread: logging and Tell are both thread-safe.
    private void Refuse(HandOver handOver, string reason)
    {
        _log.Warning("Could not pass {0} to worker pid {1} ({2}): ConnectionDispatchFailed", handOver, _workerPid, reason);
        _drains.Tell(new DrainAfterFault(handOver.Socket, FramingFaults.ConnectionDispatchFailed, handOver.Via));
    }

    // The channel failed or closed: the worker is gone (its removal reaches the registry before this, or right after
    // when this gateway found out first). The registry passes the connection to another worker of its address, or
    // answers ConnectionDispatchFailed. Called from the actor and from the sender thread (Tell is thread-safe).
    private void GiveBack(HandOver handOver, string reason)
    {
        _log.Info("Could not pass {0} to worker pid {1} ({2}): the registry routes it again", handOver, _workerPid, reason);
        _registry.Tell(new Undelivered(handOver, $"worker pid {_workerPid}: {reason}"));
    }

    protected override void PostStop()
    {
        _lane.Close();
        foreach (var waiting in _state.Waiting) GiveBack(waiting.HandOver, "the worker's hand-over channel closed");
        _state = State.Empty;
        _toSender.CompleteAdding();
        _stopping.Cancel();
        try { _channel.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        _channel.Dispose();
    }
}
