using System.Buffers;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Interop;
using AkkaPortShare.Worker.Configuration;
using AkkaPortShare.Worker.Diagnostics;
using AkkaPortShare.Worker.Listening;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// The server side of .NET Message Framing for one connection in a worker. It first replays the bytes the
/// router already read, then reads the socket itself: preamble, PreambleAck, envelopes delivered to the
/// service actor as whole messages, End answered with End, faults. A pooled client may start a new preamble
/// on the same socket after End; if its via belongs elsewhere the socket goes back to the router.
/// </summary>
internal sealed class SessionConnectionActor : ReceiveActor, IWithTimers
{

    private sealed record BytesRead(int Count);
    private sealed record ReadFailed(Exception Cause);
    private sealed record WriteDone(Exception? Error);
    private sealed record InboundDrained(bool ReaderGone);
    private sealed class PreambleTimeout { public static readonly PreambleTimeout Instance = new(); }
    private sealed class IdleTimeout { public static readonly IdleTimeout Instance = new(); }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Socket _socket;
    private readonly RouterChannel? _routerChannel;
    private readonly ServiceRoutes _routes;
    private readonly WorkerSettings _settings;
    private readonly string _peer;
    private readonly PreambleDecoder _preamble;
    private readonly SessionDecoder _records = new(FramingMode.Duplex);
    private readonly Outbox _outbox = new();
    private readonly ConnectionBudget _budget = ConnectionBudget.For(Context.System);
    private readonly WorkerMetrics _metrics = WorkerMetrics.Get(Context.System);
    private bool _admitted;            // counted against max-connections
    private long _unsentCounted;       // this connection's share of the worker's unsent bytes
    private bool _writeBlocked;        // too much unsent: stop reading until it is written (back-pressure)
    private bool _blockLogged;
    private long? _credit;             // messages the service asked for (RequestMessages); null: it does not use flow control
    private bool _serviceAnswered;     // the service said anything this session (a reply, NoReply, RequestMessages)
    private int _unanswered;           // messages delivered before that
    private byte[] _buffer;
    private int _offset;        // first byte not yet decoded
    private int _filled;        // end of the bytes read
    private int _preambleStart; // where the current preamble began (handed back as is)
    private IActorRef? _service;       // the service the via routes to: told SessionOpened, answers Accept or Fault
    private IActorRef? _handler;       // the actor that accepted the session: gets its messages and SessionClosed
    private string? _baseAddress;      // the registered address _service serves (the counters' attribute)
    private string? _lastVia;
    private FramingMode _mode;
    private MessageAssembly? _message;
    private InboundStream? _inbound;   // the streamed message being received (singleton mode)
    private bool _drainPending;        // the inbound pipe is full: stop reading until the service catches up
    private bool _replied;             // singleton mode: the service has answered this session's message
    private bool _messageArrived;      // singleton mode: this session's message has begun to arrive
    private bool _endPending;          // singleton mode: the client's End waits for that answer
    private bool _serviceEnded;        // the service sent End (FramingSession.Close); the client's End or close is awaited
    private bool _readPending;
    private bool _closeAfterWrites;
    private bool _socketGivenAway;
    private string? _faultAfterWrites; // a fault waits for what is being written, then goes out with a drain

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Socket socket, byte[] alreadyRead, RouterChannel? routerChannel, ServiceRoutes routes,
        WorkerSettings settings) =>
        Akka.Actor.Props.Create(() => new SessionConnectionActor(socket, alreadyRead, routerChannel, routes, settings));

    public SessionConnectionActor(Socket socket, byte[] alreadyRead, RouterChannel? routerChannel, ServiceRoutes routes,
        WorkerSettings settings)
    {
        _socket = socket;
        _routerChannel = routerChannel;
        _routes = routes;
        _settings = settings;
        _peer = socket.RemoteEndPoint?.ToString() ?? "unknown peer";
        _preamble = new PreambleDecoder(settings.MaxViaSize, settings.MaxContentTypeSize);
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(settings.ReadBufferSize, alreadyRead.Length));
        alreadyRead.CopyTo(_buffer, 0);
        _filled = alreadyRead.Length;
        AwaitingPreamble();
    }

    protected override void PreStart()
    {
        if (!(_admitted = _budget.TryOpen(_settings.MaxConnections)))
        {
            Fault(FramingFaults.ServerTooBusy, $"max-connections ({_settings.MaxConnections}) reached");
            return;
        }
        Timers.StartSingleTimer(PreambleTimeout.Instance, PreambleTimeout.Instance, _settings.ReceiveTimeout);
        Pump();
    }

    // Until the service has said anything, at most max-messages-before-answer are delivered: a busy service shared by
    // many sessions may take its time over SessionOpened, and its first RequestMessages must not find thousands of
    // messages already in its mailbox (found under load: a non-reading flood grew the worker by 500 MB).
    private bool Paused => AwaitingAcceptance || _drainPending || _endPending || _writeBlocked || _credit == 0
        || (!_serviceAnswered && _credit is null && _unanswered >= _settings.MaxMessagesBeforeAnswer);

    // The preamble is complete but the service has not accepted: nothing is read, acknowledged or delivered.
    private bool AwaitingAcceptance => _service is not null && _handler is null;

    private void ServiceAnswered()
    {
        if (_serviceAnswered) return;
        var wasPaused = Paused;
        _serviceAnswered = true;
        if (wasPaused && !Paused) Pump();
    }

    /// <summary>Decodes what is buffered, then reads on unless the connection is finished or paused.</summary>
    private void Pump()
    {
        if (ProcessBuffer() && !Paused) ReadMore();
    }

    private void AwaitingPreamble()
    {
        Receive<PreambleTimeout>(_ => Abort($"no complete preamble within receive-timeout {_settings.ReceiveTimeout}"));
        Receive<IdleTimeout>(_ => Abort(null));
        ReceiveIo();
    }

    private void AwaitingAccept()
    {
        Receive<Accept>(OnAccept);
        Receive<FramingSession.Fault>(f =>
        {
            _log.Info("Service refused the session from {0} with {1}", _peer, f.FaultUri);
            Fault(f.FaultUri, "the service refused the session");
        });
        Receive<FramingSession.Abort>(a =>
        {
            EndSession(graceful: false);
            Abort($"the service aborted the session: {a.Reason}");
        });
        Receive<PreambleTimeout>(_ =>
        {
            EndSession(graceful: false);
            Abort($"the service did not accept the session within receive-timeout {_settings.ReceiveTimeout}");
        });
        ReceiveIo();
    }

    private void OnAccept(Accept accept)
    {
        // The preamble deadline ran on until now: a service that never answers does not hold the connection.
        Timers.Cancel(PreambleTimeout.Instance);
        _handler = accept.Handler;
        Context.Watch(_handler);
        _metrics.SessionStarted(_baseAddress!, _mode == FramingMode.Singleton ? "singleton" : "duplex");
        QueueRecord(FramingWriter.PreambleAck.ToArray());
        Flush();
        Become(InSession);
        Pump();
    }

    private void InSession()
    {
        Receive<Terminated>(t =>
        {
            // Handler and framing session are one unit: without its handler the session cannot go on.
            _handler = null;
            _metrics.SessionEnded();
            EndSession(graceful: false);
            Abort("the service's session handler stopped");
        }, t => t.ActorRef.Equals(_handler));
        Receive<Send>(s =>
        {
            ServiceAnswered();
            if (_serviceEnded) return; // nothing may follow End
            Enqueue(s.Payload);
            OnReplied();
        });
        Receive<SendStream>(s =>
        {
            ServiceAnswered();
            _outbox.Add(s.Body);
            Flush();
            OnReplied();
        });
        Receive<NoReply>(_ =>
        {
            ServiceAnswered();
            OnReplied();
        });
        Receive<RequestMessages>(r =>
        {
            var wasPaused = Paused;
            _serviceAnswered = true;
            _credit = (_credit ?? 0) + Math.Max(0, r.Count);
            if (wasPaused && !Paused) Pump();
        });
        Receive<FramingSession.Abort>(a =>
        {
            EndSession(graceful: false);
            Abort($"the service aborted the session: {a.Reason}");
        });
        Receive<FramingSession.Close>(_ =>
        {
            if (_serviceEnded || _mode == FramingMode.Singleton) return; // a streamed session ends with its reply
            _serviceEnded = true;
            QueueRecord(FramingWriter.End.ToArray());
            Flush();
            // Bounded: a client that neither answers End nor closes is cut off like an idle pooled connection.
            Timers.StartSingleTimer(IdleTimeout.Instance, IdleTimeout.Instance, _settings.ConnectionIdleTimeout);
        });
        Receive<IdleTimeout>(_ =>
        {
            EndSession(graceful: false);
            Abort("the client did not end the session the service ended");
        }, _ => _serviceEnded);
        Receive<FramingSession.Fault>(f =>
        {
            _log.Info("Service faulted the session from {0} with {1}", _peer, f.FaultUri);
            _metrics.Faulted(f.FaultUri);
            EndSession(graceful: false);
            QueueRecord(FramingWriter.Fault(f.FaultUri));
            _closeAfterWrites = true;
            Flush();
        });
        ReceiveIo();
    }

    private void ReceiveIo()
    {
        Receive<BytesRead>(r =>
        {
            _readPending = false;
            if (r.Count == 0)
            {
                OnEndOfStream();
                return;
            }
            _filled += r.Count;
            Pump();
        });
        Receive<InboundDrained>(d =>
        {
            _drainPending = false;
            if (d.ReaderGone) _inbound?.ReaderGone();
            Pump();
        });
        Receive<ReadFailed>(f =>
        {
            _readPending = false;
            EndSession(graceful: false);
            Abort($"read failed: {f.Cause.Message}");
        });
        Receive<WriteDone>(OnWriteDone);
    }

    /// <summary>Decodes everything buffered. False when the connection is finished here (closed, faulted, handed back).</summary>
    private bool ProcessBuffer()
    {
        while (!Paused)
        {
            var input = _buffer.AsSpan(_offset, _filled - _offset);
            if (_service is null && _preamble.Stage != PreambleStage.Complete)
            {
                if (input.IsEmpty) break;
                _offset += _preamble.Decode(input);
                if (_preamble.Stage == PreambleStage.Failed)
                    return Fault(_preamble.FaultFor, $"bad preamble ({_preamble.Error})");
                if (_preamble.UpgradeRequested is { } upgrade)
                    return Fault(FramingFaults.UpgradeInvalid, $"stream upgrade {upgrade} requested; security is off");
                if (_preamble.Stage != PreambleStage.Complete) break;
                if (!OpenSession()) return false;
                continue;
            }

            // The record decoder runs even on empty input: the end of a sized envelope needs no further byte.
            var record = _records.Decode(input, out var consumed);
            if (!OnRecord(record, input)) return false;
            _offset += consumed;
            if (record.Kind == SessionEventKind.NeedMoreData) break;
        }
        Compact();
        return true;
    }

    private bool OpenSession()
    {
        var via = _preamble.Via!;
        if (_preamble.Mode is not (FramingMode.Duplex or FramingMode.Singleton))
            return Fault(FramingFaults.UnsupportedMode, $"mode {_preamble.Mode} is not served");

        // A later session on a pooled connection may name an address another worker owns: only the router knows.
        if (_lastVia is not null && _routerChannel is not null && !string.Equals(via, _lastVia, StringComparison.OrdinalIgnoreCase))
            return HandBack(via);

        if (!_routes.TryMatch(via, out var service, out var baseAddress))
            return Fault(FramingFaults.EndpointNotFound, $"no service of this worker serves {via}");

        // The preamble timer keeps running until the service accepts (receive-timeout bounds both).
        Timers.Cancel(IdleTimeout.Instance);
        _service = service;
        _baseAddress = baseAddress;
        _lastVia = via;
        _mode = _preamble.Mode;
        _records.Reset(_mode);
        _replied = false;
        _messageArrived = false;
        // No PreambleAck yet: WCF acknowledges a session only once its channel is accepted (FramingSession.Accept).
        service!.Tell(new SessionOpened(Self, via, _preamble.ContentType!, _peer, Streamed: _mode == FramingMode.Singleton));
        Become(AwaitingAccept);
        return true;
    }

    private bool OnRecord(SessionEvent record, ReadOnlySpan<byte> input)
    {
        switch (record.Kind)
        {
            case SessionEventKind.EnvelopeStart when _mode == FramingMode.Singleton:
                // Streamed mode: the service reads the message while it arrives.
                _messageArrived = true;
                _inbound = new InboundStream();
                _handler!.Tell(new MessageStreamReceived(Self, _inbound.Body));
                _metrics.MessageReceived(_baseAddress!);
                return true;
            case SessionEventKind.EnvelopeStart:
                if (record.Size > _settings.MaxMessageSize)
                    return Fault(FramingFaults.MaxMessageSizeExceeded,
                        $"a message of {record.Size} bytes exceeds max-message-size {_settings.MaxMessageSize}");
                _message = new MessageAssembly(record.Size);
                return true;
            case SessionEventKind.EnvelopeData when _inbound is not null:
                if (_inbound.Length + record.DataLength > _settings.MaxMessageSize)
                    return Fault(FramingFaults.MaxMessageSizeExceeded,
                        $"a streamed message exceeds max-message-size {_settings.MaxMessageSize}");
                var flush = _inbound.WriteAsync(input.Slice(record.DataOffset, record.DataLength));
                if (!flush.IsCompleted)
                {
                    _drainPending = true;
                    flush.AsTask().PipeTo(Self, success: f => new InboundDrained(f.IsCompleted),
                        failure: _ => new InboundDrained(true));
                }
                else if (flush.Result.IsCompleted) _inbound.ReaderGone();
                return true;
            case SessionEventKind.EnvelopeData:
                if (!_message!.Append(input.Slice(record.DataOffset, record.DataLength)))
                    return Fault(FramingFaults.MaxMessageSizeExceeded, "an envelope overran its announced size");
                return true;
            case SessionEventKind.EnvelopeEnd when _inbound is not null:
                _inbound.Complete();
                _inbound = null;
                return true;
            case SessionEventKind.EnvelopeEnd when _serviceEnded:
                _message = null; // the service has ended the session
                return true;
            case SessionEventKind.EnvelopeEnd:
                _handler!.Tell(new MessageReceived(Self, _message!.ToArray()));
                _metrics.MessageReceived(_baseAddress!);
                if (_credit > 0) _credit--;
                if (!_serviceAnswered) _unanswered++;
                _message = null;
                return true;
            // Without a message there is no reply to wait for (found by fuzzing: End right after the preamble hung).
            case SessionEventKind.End when _mode == FramingMode.Singleton && !_replied && _messageArrived:
                // A streaming client sends End right after its message; End answers only after the reply.
                _endPending = true;
                return true;
            case SessionEventKind.End:
                FinishSession();
                return true;
            case SessionEventKind.PreambleStart:
                // Connection reuse: the same socket now carries a new preamble, possibly for another address.
                _preamble.Reset();
                _preambleStart = _offset;
                // From here the preamble deadline applies, not the idle one.
                Timers.Cancel(IdleTimeout.Instance);
                Timers.StartSingleTimer(PreambleTimeout.Instance, PreambleTimeout.Instance, _settings.ReceiveTimeout);
                return true;
            case SessionEventKind.Fault:
                EndSession(graceful: false);
                Abort($"the client sent fault {record.FaultUri}");
                return false;
            case SessionEventKind.Invalid:
                EndSession(graceful: false);
                Abort("the client sent bytes that are not a framing record");
                return false;
            default:
                return true;
        }
    }

    private void FinishSession()
    {
        _endPending = false;
        var endSent = _serviceEnded;
        EndSession(graceful: true);
        if (!endSent) QueueRecord(FramingWriter.End.ToArray());
        Flush();
        Timers.StartSingleTimer(IdleTimeout.Instance, IdleTimeout.Instance, _settings.ConnectionIdleTimeout);
    }

    // Singleton mode: once the service answered (or said it will not), a waiting End can be answered.
    private void OnReplied()
    {
        if (_mode != FramingMode.Singleton) return;
        _replied = true;
        if (!_endPending) return;
        FinishSession();
        Pump();
    }

    private void EndSession(bool graceful)
    {
        // A streamed message cut off here must not look complete to the service reading it.
        _inbound?.Complete(new IOException("The connection ended before the streamed message was complete."));
        _inbound = null;
        _serviceEnded = false;
        _credit = null; // the service's flow control ends with its session
        _serviceAnswered = false;
        _unanswered = 0;
        if (_service is null) return;
        _service = null;
        Become(AwaitingPreamble);
        if (_handler is null) return; // not accepted: the session never started
        _metrics.SessionEnded();
        _handler.Tell(new SessionClosed(Self, graceful));
        // A later session on this connection has its own Accept, perhaps by another handler.
        Context.Unwatch(_handler);
        _handler = null;
    }

    private void OnEndOfStream()
    {
        // EOF between sessions is a client closing its pooled connection: nothing to report.
        if (_handler is not null && _serviceEnded)
        {
            // The service ended the session and the client closed instead of answering End: done, nothing to report.
            EndSession(graceful: true);
            Abort(null);
        }
        else if (_service is not null)
        {
            EndSession(graceful: false);
            Abort("the client closed the connection inside a session");
        }
        else if (_filled > _offset) Abort("the client closed the connection inside a preamble");
        else Abort(null);
    }

    private bool HandBack(string via)
    {
        _log.Debug("Pooled connection from {0} moves on to {1}: handing it back to the router", _peer, via);
        _socketGivenAway = true;
        try
        {
            _routerChannel!.HandBack(_socket, _buffer.AsSpan(_preambleStart, _filled - _preambleStart));
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            _log.Warning("Could not hand {0} back to the router ({1}): ConnectionDispatchFailed", _peer, e.Message);
            _ = FramingFaultSender.SendAndCloseAsync(_socket, FramingFaults.ConnectionDispatchFailed,
                _settings.FaultDrainLimit, _settings.FaultTimeout);
        }
        Context.Stop(Self);
        return false;
    }

    private void Enqueue(byte[] payload)
    {
        if (_mode == FramingMode.Singleton)
        {
            // Streamed (singleton) mode: the reply is one unsized envelope, then End.
            var header = new byte[1 + MultiByteInt.MaxEncodedSize];
            header[0] = (byte)FramingRecordType.UnsizedEnvelope;
            var n = 1 + FramingWriter.WriteUnsizedChunkHeader(header.AsSpan(1), payload.Length);
            QueueRecord(header[..n]);
            if (payload.Length > 0) _outbox.Add(payload);
            QueueRecord(FramingWriter.UnsizedEnvelopeEnd.ToArray());
        }
        else
        {
            var header = new byte[1 + MultiByteInt.MaxEncodedSize];
            var n = FramingWriter.WriteSizedEnvelopeHeader(header, payload.Length);
            _outbox.Add(new ArraySegment<byte>(header, 0, n));
            _outbox.Add(new ArraySegment<byte>(payload));
        }
        Flush();
    }

    private void QueueRecord(byte[] record) => _outbox.Add(new ArraySegment<byte>(record));

    // One write in flight; everything queued meanwhile goes out together in the next one.
    private void Flush()
    {
        _outbox.StartNext(_socket)?.PipeTo(Self, success: _ => new WriteDone(null), failure: e => new WriteDone(e));
        WeighUnsent();
    }

    /// <summary>
    /// Back-pressure, as WCF's one-reply-at-a-time writer gets from TCP: reading stops while this connection's unsent
    /// bytes are at max-unsent-bytes (until they fall to half), or while it has any and the worker's total is over
    /// max-unsent-bytes-total. A client that never reads then fills its own socket buffers, not the worker's heap.
    /// </summary>
    private void WeighUnsent()
    {
        var unsent = _outbox.UnsentBytes;
        _budget.AddUnsent(unsent - _unsentCounted);
        _unsentCounted = unsent;
        var wasBlocked = _writeBlocked;
        var overOwn = wasBlocked ? unsent > _settings.MaxUnsentBytes / 2 : unsent >= _settings.MaxUnsentBytes;
        _writeBlocked = overOwn || unsent > 0 && _budget.UnsentBytes > _settings.MaxUnsentBytesTotal;
        if (_writeBlocked && !_blockLogged)
        {
            // Once per connection: a client that reads slowly may pass the bound often.
            _blockLogged = true;
            _log.Info("Connection from {0} is not reading its replies: {1} bytes unsent (max-unsent-bytes {2}, worker total {3} of {4}); " +
                      "reading from it stops until they are written", _peer, unsent, _settings.MaxUnsentBytes, _budget.UnsentBytes,
                _settings.MaxUnsentBytesTotal);
        }
    }

    private void OnWriteDone(WriteDone done)
    {
        _outbox.Completed();
        var wasBlocked = _writeBlocked;
        if (done.Error is not null)
        {
            EndSession(graceful: false);
            Abort($"write failed: {done.Error.Message}");
            return;
        }
        if (_faultAfterWrites is not null)
        {
            if (_outbox.IsIdle) SendFaultAndStop(_faultAfterWrites);
            else Flush();
            return; // nothing is read any more
        }
        if (!_outbox.IsIdle) Flush();
        else if (_closeAfterWrites)
        {
            Abort(null);
            return;
        }
        else WeighUnsent();
        if (wasBlocked && !_writeBlocked) Pump(); // below the bound again: read on
    }

    private bool Fault(string? faultUri, string reason)
    {
        EndSession(graceful: false);
        if (faultUri is null)
        {
            Abort(reason);
            return false;
        }
        _log.Info("Connection from {0}: {1}; answering {2}", _peer, reason, faultUri);
        _metrics.Faulted(faultUri);
        if (!_outbox.IsIdle)
        {
            // What is being written (e.g. the End of a previous session) goes out first, then the fault.
            _faultAfterWrites = faultUri;
            Become(() => Receive<WriteDone>(OnWriteDone));
            return false;
        }
        SendFaultAndStop(faultUri);
        return false;
    }

    // The client must be able to read the fault: written, then drained and closed off the actor (fault-timeout).
    private void SendFaultAndStop(string faultUri)
    {
        _socketGivenAway = true;
        _ = FramingFaultSender.SendAndCloseAsync(_socket, faultUri, _settings.FaultDrainLimit, _settings.FaultTimeout);
        Context.Stop(Self);
    }

    private void Abort(string? reason)
    {
        if (reason is not null) _log.Info("Closing connection from {0}: {1}", _peer, reason);
        Context.Stop(Self);
    }

    private void ReadMore()
    {
        if (_readPending) return;
        if (_filled == _buffer.Length)
        {
            Abort("a preamble does not fit the read buffer");
            return;
        }
        _readPending = true;
        SocketTasks.Receive(_socket, _buffer.AsMemory(_filled))
            .PipeTo(Self, success: n => new BytesRead(n), failure: e => new ReadFailed(e));
    }

    // Keeps the undecoded tail (and a preamble being read, which may have to be handed back whole) at the front.
    private void Compact()
    {
        var keepFrom = _service is null && _lastVia is not null ? Math.Min(_preambleStart, _offset) : _offset;
        if (keepFrom == 0) return;
        _buffer.AsSpan(keepFrom, _filled - keepFrom).CopyTo(_buffer);
        _filled -= keepFrom;
        _offset -= keepFrom;
        _preambleStart = Math.Max(0, _preambleStart - keepFrom);
    }

    protected override void PostStop()
    {
        _inbound?.Complete(new IOException("The connection closed before the streamed message was complete."));
        _outbox.Discard();
        _budget.AddUnsent(-_unsentCounted);
        if (_admitted) _budget.Closed();
        if (_handler is not null)
        {
            _metrics.SessionEnded();
            _handler.Tell(new SessionClosed(Self, false));
        }
        if (!_socketGivenAway) _socket.Dispose();
        if (!_readPending) ArrayPool<byte>.Shared.Return(_buffer);
    }
}
