using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Framing;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>An accepted session: its behaviours, the service's answers and flow control, and how it ends.</summary>
internal sealed partial class SessionConnectionActor
{
    private void OnAccept(Accept accept)
    {
        Timers.Cancel(PreambleTimeout.Instance);
        // Handler and framing session are one unit: its stop aborts the connection (see ReceiveSession).
        Context.Watch(accept.Handler);
        _state = _state with { Handler = accept.Handler, MaxMessageSize = accept.MaxMessageSize };
        var streamed = _preamble.Mode == FramingMode.Singleton;
        _metrics.SessionStarted(_state.BaseAddress!, streamed ? "singleton" : "duplex");
        // A resumed session's client has its PreambleAck from the worker that passed the connection here.
        if (!_resumedSession) EnvelopeWriter.Record(_outbox, FramingWriter.PreambleAck);
        Flush();
        if (streamed) EnterStreamedAwaitingMessage();
        else Enter(Duplex, () => DecodeRecord(OnDuplexRecord));
        Pump();
    }

    /// <summary>A duplex session: sized envelopes both ways until either side ends it.</summary>
    private void Duplex()
    {
        Receive<Send>(s =>
        {
            Answered();
            _movable = false;
            EnvelopeWriter.Sized(_outbox, s.Payload);
            Flush();
        });
        Receive<SendStream>(s =>
        {
            Answered();
            _movable = false;
            _outbox.Add(s.Body);
            Flush();
        });
        Receive<NoReply>(_ => Answered());
        Receive<MoveSession>(OnMoveSession);
        Receive<Close>(_ =>
        {
            _movable = false;
            EnvelopeWriter.Record(_outbox, FramingWriter.End);
            Flush();
            // Nothing is delivered any more, so the service's flow control no longer holds the reading back.
            _state = _state with { Credit = null, Unanswered = null };
            // Bounded: a client that neither answers End nor closes is cut off like an idle pooled connection.
            Timers.StartSingleTimer(IdleTimeout.Instance, IdleTimeout.Instance, _settings.ConnectionIdleTimeout);
            Enter(ServiceEnded, () => DecodeRecord(OnRecordAfterServiceEnd));
            Pump(); // reading may have waited for credit: the client's End must still be seen
        });
        ReceiveSession();
    }

    /// <summary>The service sent End (Close): the client's End or close is awaited; nothing more goes either way.</summary>
    private void ServiceEnded()
    {
        Receive<Send>(_ => { });
        Receive<SendStream>(s => s.Body.Dispose());
        Receive<NoReply>(_ => { });
        Receive<Close>(_ => { });
        Receive<IdleTimeout>(_ => Abort("the client did not end the session the service ended"));
        ReceiveSession(onEndOfStream: () =>
        {
            // The client closed instead of answering End: done, nothing to report.
            EndSession(graceful: true);
            Abort(null);
        });
    }

    // Streamed (singleton) mode: one message, one reply (or NoReply). The client's End is answered at once, unless a
    // message came and its reply has not: then it waits for the reply. Without a message there is no reply to wait
    // for (found by fuzzing: End right after the preamble hung).
    private void EnterStreamedAwaitingMessage() =>
        EnterStreamed(StreamedAwaitingMessage, onMessage: EnterStreamedAwaitingReply, onEnd: () => FinishSession());

    private void EnterStreamedAwaitingReply() =>
        EnterStreamed(StreamedAwaitingReply, onMessage: () => { }, onEnd: () => Enter(StreamedEndPending, decode: null));

    private void EnterStreamedReplied() => EnterStreamed(StreamedReplied, onMessage: () => { }, onEnd: () => FinishSession());

    private void EnterStreamed(Action behaviour, Action onMessage, Action onEnd) =>
        Enter(behaviour, () => DecodeRecord((record, input) => OnStreamedRecord(record, input, onMessage, onEnd)));

    private void StreamedAwaitingMessage() => ReceiveStreamed(EnterStreamedReplied);

    private void StreamedAwaitingReply() => ReceiveStreamed(EnterStreamedReplied);

    private void StreamedReplied() => ReceiveStreamed(() => { });

    /// <summary>The client's End came before the reply (as WCF's streaming client sends it): nothing is read until the reply.</summary>
    private void StreamedEndPending() => ReceiveStreamed(() =>
    {
        FinishSession();
        Pump();
    });

    private void ReceiveStreamed(Action replied)
    {
        Receive<Send>(s =>
        {
            Answered();
            EnvelopeWriter.Unsized(_outbox, s.Payload);
            Flush();
            replied();
        });
        Receive<SendStream>(s =>
        {
            Answered();
            _outbox.Add(s.Body);
            Flush();
            replied();
        });
        Receive<NoReply>(_ =>
        {
            Answered();
            replied();
        });
        Receive<Close>(_ => { }); // a streamed session ends with its reply
        ReceiveSession();
    }

    /// <summary>What every accepted session's behaviour handles.</summary>
    private void ReceiveSession(Action? onEndOfStream = null)
    {
        Receive<Terminated>(_ =>
        {
            // Nobody to tell SessionClosed: the session just ends with its connection.
            _state = _state with { Handler = null };
            _metrics.SessionEnded();
            Abort("the service's session handler stopped");
        }, t => t.ActorRef.Equals(_state.Handler));
        Receive<RequestMessages>(OnRequestMessages);
        Receive<SessionHolderLocated>(OnHolderLocated);
        Receive<FramingSession.Abort>(a => Abort($"the service aborted the session: {a.Reason}"));
        Receive<FramingSession.Fault>(f => Fault(f.FaultUri, "the service faulted the session"));
        ReceiveIo(onEndOfStream ?? (() => Abort("the client closed the connection inside a session")));
    }

    private void OnRequestMessages(RequestMessages request)
    {
        var wasPaused = Paused;
        _state = _state with { Credit = (_state.Credit ?? 0) + Math.Max(0, request.Count), Unanswered = null };
        if (wasPaused && !Paused) Pump();
    }

    // The service said something this session: max-messages-before-answer no longer applies.
    private void Answered()
    {
        if (_state.Unanswered is null) return;
        var wasPaused = Paused;
        _state = _state with { Unanswered = null };
        if (wasPaused && !Paused) Pump();
    }

    /// <summary>The client's End (answered with End unless the service sent one): the connection may carry a new session.</summary>
    private void FinishSession(bool endSent = false)
    {
        EndSession(graceful: true);
        if (!endSent) EnvelopeWriter.Record(_outbox, FramingWriter.End);
        Flush();
        Timers.StartSingleTimer(IdleTimeout.Instance, IdleTimeout.Instance, _settings.ConnectionIdleTimeout);
        if (_secured is null)
        {
            Enter(BetweenSessions, () => DecodeRecord(OnRecordBetweenSessions));
            return;
        }
        // Nothing is read until the End has gone out through TLS: the next preamble comes on the socket itself.
        Enter(BetweenSessions, decode: null);
        _leavingSecured = true;
        if (_outbox.IsIdle) LeaveSecured();
    }

    /// <summary>Tells the handler the session is over and forgets it; the flow control ends with it.</summary>
    private void EndSession(bool graceful)
    {
        // A streamed message cut off here must not look complete to the service reading it.
        _inbound?.Complete(new IOException("The connection ended before the streamed message was complete."));
        _inbound = null;
        _message = null;
        var handler = _state.Handler;
        _state = _state with { Handler = null, Credit = null, Unanswered = null, MaxMessageSize = null };
        if (handler is null) return; // no session, or one never accepted
        _metrics.SessionEnded();
        handler.Tell(new SessionClosed(Self, graceful));
        // A later session on this connection has its own Accept, perhaps by another handler.
        Context.Unwatch(handler);
    }
}
