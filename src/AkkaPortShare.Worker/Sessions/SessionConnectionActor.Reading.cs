using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Interop;
using AkkaPortShare.Worker.Listening;
using static AkkaPortShare.Worker.FramingSession;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>Reading and decoding: the preamble, opening a session, and each behaviour's handling of framing records.</summary>
internal sealed partial class SessionConnectionActor
{
    /// <summary>What a behaviour does with one decoded record; false when the connection is finished here.</summary>
    private delegate bool RecordHandler(SessionEvent record, ReadOnlySpan<byte> input);

    // Until the service has said anything, at most max-messages-before-answer are delivered: a busy service shared by
    // many sessions may take its time over SessionOpened, and its first RequestMessages must not find thousands of
    // messages already in its mailbox (found under load: a non-reading flood grew the worker by 500 MB).
    private bool Paused => _decode is null || _moving || _state.DrainPending || _state.WriteBlocked || _state.Credit == 0
        || (_state.Credit is null && _state.Unanswered >= _settings.MaxMessagesBeforeAnswer);

    /// <summary>Decodes what is buffered, then reads on unless the connection is finished or paused.</summary>
    private void Pump()
    {
        if (ProcessBuffer() && !Paused) ReadMore();
    }

    /// <summary>Decodes everything buffered. False when the connection is finished here (closed, faulted, handed back).</summary>
    private bool ProcessBuffer()
    {
        while (!Paused)
        {
            var step = _decode!();
            if (step == Step.Finished) return false;
            if (step == Step.NeedMoreData) break;
        }
        // A session that may still move to another worker goes with every byte since its preamble; past what one
        // hand-over message carries it stays here.
        if (_movable && _buffer.FromPreambleStart.Length > RouterChannel.MaxMovedBytes) _movable = false;
        // A later preamble on a pooled connection may have to be handed back whole.
        _buffer.Compact(keepPreamble: _movable || (_state.LastVia is not null && _preamble.Stage != PreambleStage.Complete));
        return true;
    }

    private void ReadMore()
    {
        if (_buffer.Lent) return;
        if (_buffer.IsFull && _movable)
        {
            _movable = false; // the kept bytes fill the buffer: reading on matters more than a possible move
            _buffer.Compact(keepPreamble: false);
        }
        if (_buffer.IsFull)
        {
            Abort("a preamble does not fit the read buffer");
            return;
        }
        _io.Receive(_buffer.Lend(), ReadCancellation).PipeTo(Self, success: n => new BytesRead(n), failure: e => new ReadFailed(e));
    }

    private Step DecodePreamble()
    {
        var input = _buffer.Unread;
        if (input.IsEmpty) return Step.NeedMoreData;
        _buffer.Consume(_preamble.Decode(input));
        if (_preamble.Stage == PreambleStage.Failed)
        {
            var reason = $"bad preamble ({_preamble.Error})";
            if (_preamble.FaultFor is { } faultUri) return Finished(Fault(faultUri, reason));
            Abort(reason);
            return Step.Finished;
        }
        if (_preamble.UpgradeRequested is { } upgrade) return OnUpgradeRequest(upgrade);
        if (_preamble.Stage != PreambleStage.Complete) return Step.NeedMoreData;
        return OpenSession() ? Step.Continue : Step.Finished;
    }

    private static Step Finished(bool _) => Step.Finished;

    private bool OpenSession()
    {
        var via = _preamble.Via!;
        if (_preamble.Mode is not (FramingMode.Duplex or FramingMode.Singleton))
            return Fault(FramingFaults.UnsupportedMode, $"mode {_preamble.Mode} is not served");

        // A secured session was routed when it asked for TLS (see OnUpgradeRequest): its bytes cannot go back now.
        if (_secured is null && RoutesElsewhere(via)) return HandBack(via);

        if (!_routes.TryMatchRoute(via, out var route))
            return Fault(FramingFaults.EndpointNotFound, $"no service of this worker serves {via}");

        if (route!.Security is not null && _secured is null)
        {
            // WCF's server finds no remote security at PreambleEnd and aborts the connection without a fault
            // (RemoteSecurityNotNegotiatedOnStreamUpgrade); the client sees the session refused.
            _metrics.Faulted("TransportSecurityRequired");
            _log.Info("Closing connection from {0}: {1} requires transport security ({2}) and the client's preamble asked for " +
                      "none (its binding's security mode is None?); no fault, as WCF's server sends none", _peer, route.BaseAddress, route.Security.Upgrade);
            CloseWithoutFault();
            return false;
        }

        _state = _state with { BaseAddress = route.BaseAddress, LastVia = via, Credit = null, Unanswered = 0 };
        // Until something is written (beyond the PreambleAck) the session can be replayed to another worker of the
        // address whole: decoded there from its preamble, with the same binary dictionary, as if it had gone there.
        _movable = !_resumedSession && _secured is null && (_routerChannel is not null || MayForward) && _preamble.Mode == FramingMode.Duplex;
        if (_movable) _readCancel ??= new CancellationTokenSource();
        _records.Reset(_preamble.Mode);
        // No PreambleAck yet: WCF acknowledges a session only once its channel is accepted (FramingSession.Accept).
        route.Service.Tell(new SessionOpened(Self, via, _preamble.ContentType!, _peer, Streamed: _preamble.Mode == FramingMode.Singleton)
        {
            Secure = _secured is not null,
            ClientCertificate = _secured?.Client,
            ClientIdentity = _secured?.Identity,
        });
        Enter(AwaitingAccept, decode: null);
        return true;
    }

    // A later session on a pooled connection may name an address another worker owns: only the router knows. So
    // does every later session once this worker has given its shared addresses back (see ServiceRoutes.HandingBack).
    private bool RoutesElsewhere(string via) =>
        _state.LastVia is not null && _routerChannel is not null
        && (_routes.HandingBack || !string.Equals(via, _state.LastVia, StringComparison.OrdinalIgnoreCase));

    private bool HandBack(string via)
    {
        if (_routes.HandingBack)
            _log.Info("Pooled connection from {0} starts a new session while this worker leaves: handing it back to the router", _peer);
        else _log.Debug("Pooled connection from {0} moves on to {1}: handing it back to the router", _peer, via);
        _socketGivenAway = true;
        try
        {
            _routerChannel!.HandBack(_socket, _buffer.FromPreambleStart);
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

    // The accepting service's own limit (its endpoint's MaxReceivedMessageSize) wins over the worker's.
    private long MaxMessageSize => _state.MaxMessageSize ?? _settings.MaxMessageSize;

    private string MaxMessageSizeName => _state.MaxMessageSize is null ? "max-message-size" : "the endpoint's MaxReceivedMessageSize";

    private Step DecodeRecord(RecordHandler onRecord)
    {
        // The record decoder runs even on empty input: the end of a sized envelope needs no further byte.
        var input = _buffer.Unread;
        var record = _records.Decode(input, out var consumed);
        if (!onRecord(record, input)) return Step.Finished;
        _buffer.Consume(consumed);
        return record.Kind == SessionEventKind.NeedMoreData ? Step.NeedMoreData : Step.Continue;
    }

    private bool OnDuplexRecord(SessionEvent record, ReadOnlySpan<byte> input)
    {
        switch (record.Kind)
        {
            case SessionEventKind.EnvelopeStart:
                if (record.Size > MaxMessageSize)
                    return Fault(FramingFaults.MaxMessageSizeExceeded,
                        $"a message of {record.Size} bytes exceeds {MaxMessageSizeName} {MaxMessageSize}");
                _message = new MessageAssembly(record.Size);
                return true;
            case SessionEventKind.EnvelopeData:
                if (!_message!.Append(input.Slice(record.DataOffset, record.DataLength)))
                    return Fault(FramingFaults.MaxMessageSizeExceeded, "an envelope overran its announced size");
                return true;
            case SessionEventKind.EnvelopeEnd:
                _state.Handler!.Tell(new MessageReceived(Self, _message!.ToArray()) { Movable = _movable });
                _metrics.MessageReceived(_state.BaseAddress!);
                _message = null;
                _state = _state with
                {
                    Credit = _state.Credit > 0 ? _state.Credit - 1 : _state.Credit,
                    Unanswered = _state.Unanswered + 1,
                };
                return true;
            case SessionEventKind.End:
                FinishSession();
                return true;
            default:
                return OnOtherRecord(record);
        }
    }

    private bool OnStreamedRecord(SessionEvent record, ReadOnlySpan<byte> input, Action onMessage, Action onEnd)
    {
        switch (record.Kind)
        {
            case SessionEventKind.EnvelopeStart:
                // The service reads the message while it arrives.
                onMessage();
                _inbound = new InboundStream();
                _state.Handler!.Tell(new MessageStreamReceived(Self, _inbound.Body));
                _metrics.MessageReceived(_state.BaseAddress!);
                return true;
            case SessionEventKind.EnvelopeData when _inbound is not null:
                if (_inbound.Length + record.DataLength > MaxMessageSize)
                    return Fault(FramingFaults.MaxMessageSizeExceeded,
                        $"a streamed message exceeds {MaxMessageSizeName} {MaxMessageSize}");
                var flush = _inbound.WriteAsync(input.Slice(record.DataOffset, record.DataLength));
                if (!flush.IsCompleted)
                {
                    _state = _state with { DrainPending = true };
                    flush.AsTask().PipeTo(Self, success: f => new InboundDrained(f.IsCompleted),
                        failure: _ => new InboundDrained(true));
                }
                else if (flush.Result.IsCompleted) _inbound.ReaderGone();
                return true;
            case SessionEventKind.EnvelopeEnd when _inbound is not null:
                _inbound.Complete();
                _inbound = null;
                return true;
            case SessionEventKind.End:
                onEnd();
                return true;
            default:
                return OnOtherRecord(record);
        }
    }

    // The service has ended the session: what the client still sends is not delivered (nor kept).
    private bool OnRecordAfterServiceEnd(SessionEvent record, ReadOnlySpan<byte> input)
    {
        if (record.Kind != SessionEventKind.End) return OnOtherRecord(record);
        FinishSession(endSent: true);
        return true;
    }

    private bool OnRecordBetweenSessions(SessionEvent record, ReadOnlySpan<byte> input)
    {
        if (record.Kind != SessionEventKind.PreambleStart) return OnOtherRecord(record);
        // Connection reuse: the same socket now carries a new preamble, possibly for another address.
        _preamble.Reset();
        _resumedSession = false;
        _buffer.MarkPreambleStart();
        // From here the preamble deadline applies, not the idle one.
        Timers.Cancel(IdleTimeout.Instance);
        Timers.StartSingleTimer(PreambleTimeout.Instance, PreambleTimeout.Instance, _settings.ReceiveTimeout);
        Enter(AwaitingPreamble, DecodePreamble);
        return true;
    }

    private bool OnOtherRecord(SessionEvent record)
    {
        switch (record.Kind)
        {
            case SessionEventKind.Fault:
                Abort($"the client sent fault {record.FaultUri}");
                return false;
            case SessionEventKind.Invalid:
                Abort("the client sent bytes that are not a framing record");
                return false;
            default:
                return true;
        }
    }

    // EOF between sessions is a client closing its pooled connection: nothing to report, unless inside a preamble.
    private void EndOfStreamOutsideSession() =>
        Abort(_buffer.HasUnread ? "the client closed the connection inside a preamble" : null);
}
