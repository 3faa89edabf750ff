using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Interop;
using AkkaPortShare.Worker.Configuration;
using AkkaPortShare.Worker.Diagnostics;
using AkkaPortShare.Worker.Listening;
using AkkaPortShare.Worker.Security;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// The server side of .NET Message Framing for one connection in a worker. It first replays the bytes the
/// router already read, then reads the socket itself: preamble, PreambleAck once the service accepts, envelopes
/// delivered to the accepting handler as whole messages, End answered with End, faults. A pooled client may start
/// a new preamble on the same socket after End; if its via belongs elsewhere the socket goes back to the router.
/// </summary>
/// <remarks>
/// One behaviour per protocol state: <see cref="AwaitingPreamble"/>, <see cref="AwaitingAccept"/>, <see cref="Duplex"/>,
/// <see cref="ServiceEnded"/>, the streamed session's <see cref="StreamedAwaitingMessage"/>,
/// <see cref="StreamedAwaitingReply"/>, <see cref="StreamedReplied"/> and <see cref="StreamedEndPending"/>,
/// <see cref="BetweenSessions"/>, <see cref="Faulting"/> and <see cref="Upgrading"/> (the TLS handshake or Windows authentication). Each also says how buffered bytes are decoded
/// (<see cref="_decode"/>; none while nothing may be read). The flow control is one <see cref="State"/>.
/// </remarks>
internal sealed partial class SessionConnectionActor : ReceiveActor, IWithTimers
{
    private sealed record BytesRead(int Count);
    private sealed record ReadFailed(Exception Cause);
    private sealed record WriteDone(Exception? Error);
    private sealed record InboundDrained(bool ReaderGone);
    private sealed record Upgraded(SecuredSession Session);
    private sealed record UpgradeFailed(Exception Cause);
    private sealed class PreambleTimeout { public static readonly PreambleTimeout Instance = new(); }
    private sealed class IdleTimeout { public static readonly IdleTimeout Instance = new(); }

    /// <summary>One decoding step of the current behaviour over the buffered bytes.</summary>
    private enum Step { Continue, NeedMoreData, Finished }

    /// <summary>
    /// The connection's session and flow control, replaced as a whole. Credit: messages the service asked for
    /// (RequestMessages), null while it does not use flow control. Unanswered: messages delivered before the service
    /// said anything this session, null once it has. WriteBlocked: too much unsent, reading stops (back-pressure).
    /// DrainPending: the streamed message's pipe is full, reading stops until the service catches up.
    /// MaxMessageSize: the accepting service's own limit for this session (its endpoint's), null: max-message-size.
    /// </summary>
    private readonly record struct State(IActorRef? Handler, string? BaseAddress, string? LastVia,
        long? Credit, int? Unanswered, bool WriteBlocked, bool DrainPending, int? MaxMessageSize = null);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Socket _socket;
    private readonly SocketIo _plain;   // the socket itself: every unsecured byte, and the preamble up to an upgrade
    private ConnectionIo _io;           // what the session reads and writes: _plain, or the TLS stream of a secured session
    private SecuredSession? _secured;     // the secured session's stream (TLS or Negotiate), from the upgrade until the session's End
    private bool _leavingSecured;           // the secured session ended: back to the socket once its End is written
    private readonly RouterChannel? _routerChannel;
    private readonly ServiceRoutes _routes;
    private readonly WorkerSettings _settings;
    private readonly string _peer;
    private readonly PreambleDecoder _preamble;
    private readonly SessionDecoder _records = new(FramingMode.Duplex);
    private readonly ReadBuffer _buffer;
    private readonly Outbox _outbox = new();
    private readonly BackPressure _backPressure;
    private readonly ConnectionBudget _budget = ConnectionBudget.For(Context.System);
    private readonly WorkerMetrics _metrics = WorkerMetrics.Get(Context.System);
    private State _state;
    private Func<Step>? _decode;        // the current behaviour's decoding; null: it reads nothing
    private MessageAssembly? _message;  // the sized envelope being received
    private InboundStream? _inbound;    // the streamed message being received (singleton mode)
    private bool _admitted;             // counted against max-connections (released in PostStop)
    private bool _socketGivenAway;      // handed back to the router or to the fault sender: not ours to close
    private bool _resumedSession;       // this session's PreambleAck came from the worker that passed it here: never moved again
    private bool _movable;              // the session may still go to another worker (see MoveSession): every byte since its preamble is kept

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="resumed">The client already has this session's PreambleAck: another worker sent it, then passed the connection here.</param>
    public static Props Props(Socket socket, byte[] alreadyRead, RouterChannel? routerChannel, ServiceRoutes routes,
        WorkerSettings settings, bool resumed = false) =>
        Akka.Actor.Props.Create(() => new SessionConnectionActor(socket, alreadyRead, routerChannel, routes, settings, resumed));

    public SessionConnectionActor(Socket socket, byte[] alreadyRead, RouterChannel? routerChannel, ServiceRoutes routes,
        WorkerSettings settings, bool resumed)
    {
        _resumedSession = resumed;
        _socket = socket;
        _plain = new SocketIo(socket);
        _io = _plain;
        _routerChannel = routerChannel;
        _routes = routes;
        _settings = settings;
        _peer = socket.RemoteEndPoint?.ToString() ?? "unknown peer";
        _preamble = new PreambleDecoder(settings.MaxViaSize, settings.MaxContentTypeSize);
        _buffer = new ReadBuffer(settings.ReadBufferSize, alreadyRead);
        _backPressure = new BackPressure(_budget, settings, _log, _peer);
        Enter(AwaitingPreamble, DecodePreamble);
    }

    protected override void PreStart()
    {
        if (!(_admitted = _budget.TryOpen(_settings.MaxConnections)))
        {
            Fault(FramingFaults.ServerTooBusy, $"max-connections ({_settings.MaxConnections}) reached");
            return;
        }
        // Guarded: once per connection, and the arguments would be boxed into an array even with Debug off.
        if (_log.IsDebugEnabled)
            _log.Debug("Connection from {0} ({1}){2}", _peer, Self.Path.Name, _resumedSession ? ", a session passed on by another worker" : "");
        Timers.StartSingleTimer(PreambleTimeout.Instance, PreambleTimeout.Instance, _settings.ReceiveTimeout);
        Pump();
    }

    protected override void PostStop()
    {
        if (_log.IsDebugEnabled) _log.Debug("Connection from {0} ({1}) closed", _peer, Self.Path.Name);
        _inbound?.Complete(new IOException("The connection closed before the streamed message was complete."));
        _outbox.Discard();
        _backPressure.Release();
        if (_admitted) _budget.Closed();
        if (_state.Handler is { } handler)
        {
            _metrics.SessionEnded();
            handler.Tell(new SessionClosed(Self, false));
        }
        if (!_socketGivenAway)
        {
            _socket.Dispose();
            _secured?.Stream.Dispose();
        }
        _buffer.Release();
        _readCancel?.Dispose();
    }

    private void Enter(Action behaviour, Func<Step>? decode)
    {
        Become(behaviour);
        _decode = decode;
    }

    /// <summary>Reading the preamble: the connection's first, or a pooled connection's next one.</summary>
    private void AwaitingPreamble()
    {
        Receive<PreambleTimeout>(_ => Abort($"no complete preamble within receive-timeout {_settings.ReceiveTimeout}"));
        ReceiveIo(EndOfStreamOutsideSession);
    }

    /// <summary>
    /// The preamble is complete and the service told: nothing is acknowledged, read or delivered until it accepts.
    /// The preamble timer runs on, so a service that never answers does not hold the connection.
    /// </summary>
    private void AwaitingAccept()
    {
        Receive<Accept>(OnAccept);
        Receive<FramingSession.Fault>(f => Fault(f.FaultUri, "the service refused the session"));
        Receive<FramingSession.Abort>(a => Abort($"the service aborted the session: {a.Reason}"));
        Receive<RequestMessages>(OnRequestMessages);
        Receive<PreambleTimeout>(_ => Abort($"the service did not accept the session within receive-timeout {_settings.ReceiveTimeout}"));
        ReceiveIo(EndOfStreamOutsideSession); // nothing is read meanwhile: not expected
    }

    /// <summary>A session ended with End: the connection waits (connection-idle-timeout) for a pooled client's next preamble.</summary>
    private void BetweenSessions()
    {
        Receive<IdleTimeout>(_ => Abort(null));
        ReceiveIo(EndOfStreamOutsideSession);
    }

    /// <summary>A fault waits for what is being written (e.g. a previous session's End); then it goes out, drained.</summary>
    private void Faulting(string faultUri)
    {
        Receive<WriteDone>(done =>
        {
            _outbox.Completed();
            if (done.Error is not null) Abort($"write failed: {done.Error.Message}");
            else if (_outbox.IsIdle) SendFaultAndStop(faultUri);
            else Flush();
        });
    }

    private void ReceiveIo(Action onEndOfStream)
    {
        Receive<BytesRead>(r =>
        {
            _buffer.Returned(r.Count);
            if (ReadEnded(r.Count)) return;
            if (r.Count == 0) onEndOfStream();
            else Pump();
        });
        Receive<ReadFailed>(f =>
        {
            _buffer.Returned(0);
            if (f.Cause is OperationCanceledException && ReadEnded(-1)) return;
            Abort($"read failed: {f.Cause.Message}");
        });
        Receive<InboundDrained>(d =>
        {
            _state = _state with { DrainPending = false };
            if (d.ReaderGone) _inbound?.ReaderGone();
            Pump();
        });
        Receive<WriteDone>(OnWriteDone);
    }

    private void OnWriteDone(WriteDone done)
    {
        _outbox.Completed();
        if (done.Error is not null)
        {
            Abort($"write failed: {done.Error.Message}");
            return;
        }
        if (_leavingSecured && _outbox.IsIdle)
        {
            LeaveSecured();
            return;
        }
        var wasBlocked = _state.WriteBlocked;
        if (!_outbox.IsIdle) Flush();
        else WeighUnsent();
        if (wasBlocked && !_state.WriteBlocked) Pump(); // below the bound again: read on
    }

    // One write in flight; everything queued meanwhile goes out together in the next one.
    private void Flush()
    {
        _outbox.StartNext(_io)?.PipeTo(Self, success: _ => new WriteDone(null), failure: e => new WriteDone(e));
        WeighUnsent();
    }

    private void WeighUnsent() =>
        _state = _state with { WriteBlocked = _backPressure.Weigh(_outbox.UnsentBytes, _state.WriteBlocked) };

    /// <summary>Ends the session (if one is open) and closes the connection; a null reason closes it quietly.</summary>
    private void Abort(string? reason)
    {
        EndSession(graceful: false);
        if (reason is not null) _log.Info("Closing connection from {0}: {1}", _peer, reason);
        Context.Stop(Self);
    }

    /// <summary>Closes the connection with a framing fault the client can read; false, for the decoding loop.</summary>
    private bool Fault(string faultUri, string reason)
    {
        EndSession(graceful: false);
        _log.Info("Connection from {0}: {1}; answering {2}", _peer, reason, faultUri);
        _metrics.Faulted(faultUri);
        _decode = null;
        if (_outbox.IsIdle) SendFaultAndStop(faultUri);
        else Become(() => Faulting(faultUri));
        return false;
    }

    // Written, then the client's bytes drained (bounded) and the socket closed off the actor, as WCF does.
    private void SendFaultAndStop(string faultUri)
    {
        _socketGivenAway = true;
        _ = _secured is null
            ? FramingFaultSender.SendAndCloseAsync(_socket, faultUri, _settings.FaultDrainLimit, _settings.FaultTimeout)
            : SecuredFaultSender.SendAndCloseAsync(_secured.Stream, _socket, faultUri, _settings.FaultDrainLimit, _settings.FaultTimeout);
        Context.Stop(Self);
    }
}
