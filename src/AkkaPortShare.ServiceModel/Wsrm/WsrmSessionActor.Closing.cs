using System.ServiceModel.Channels;
using Akka.Actor;
using Akka.Event;
using static AkkaPortShare.ReliableSessions.ReliableSessionProtocol;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>
/// How a reliable session ends: the client's CloseSequence and TerminateSequence (answered from the sequence's
/// <see cref="AcknowledgementReport"/>), the service's own sequence ending, and 1.1's SequenceClosed after a close.
/// </summary>
internal sealed partial class WsrmSessionActor
{
    // ---------------------------------------------------------------- the client's end

    private void OnTerminateSequence(Message terminate, Stage stage)
    {
        var (id, _) = WsrmBodies.ReadSequenceReference(terminate.GetReaderAtBodyContents(), _version);
        if (_outputId is not null && id == _outputId)
        {
            // Only the sender of a sequence may terminate it: the client naming the service's own is a protocol error.
            _log.Warning("Reliable session {0}: the client terminated the service's sequence {1}", _inputId, id);
            _metrics.ReliableSessionFaulted("SequenceTerminated");
            SendToClient(_messages.ClientError(_outputId, "The RM Destination cannot terminate the RM Source's sequence."));
            Context.Stop(Self);
            return;
        }
        if (id != _inputId) return;
        // 1.1 answers with the final acknowledgement; February 2005 needs the sequence complete, which the latest
        // acknowledgement says, or else (a client that does not wait for the ack of its LastMessage) the session.
        if (_version.Is11) ReportAcknowledgement(new AnswerTerminateSequence(terminate.Headers.MessageId));
        else if (_state.LastInputAck is { Final: true }) OnClientTerminated(stage);
        else ReportAcknowledgement(new CheckTerminateSequence());
    }

    /// <summary>
    /// 1.1: after CloseSequence, WCF's receiver takes only numbers its final acknowledgement already covers (those are
    /// duplicates); any other is SequenceClosed, a fault that leaves the session as it is.
    /// </summary>
    private bool IsAfterClose(SequencePacket sequence) =>
        _state.ClosedAt is long closedAt && sequence.SequenceId == _inputId
        && (sequence.Number > closedAt
            || _state.ClosedAck is { } final && !final.Ranges.Any(r => r.Lower <= sequence.Number && sequence.Number <= r.Upper));

    private void RefuseAfterClose(SequencePacket sequence)
    {
        _log.Warning("Reliable session {0}: message {1} after CloseSequence (last {2}): SequenceClosed", _inputId, sequence.Number, _state.ClosedAt);
        _metrics.ReliableMessageDropped("sequence_closed");
        SendToClient(_messages.SequenceClosed($"Message {sequence.Number} came after CloseSequence ended the sequence at {_state.ClosedAt}.",
            _state.ClosedAck ?? _state.LastInputAck));
    }

    // ---------------------------------------------------------------- the sequence's answers

    /// <summary>
    /// Asks the sequence for its acknowledgement as it stands after everything told to it so far (mailbox order), to
    /// answer the client with; until it comes, a standalone acknowledgement would say less, so it is held.
    /// </summary>
    private void ReportAcknowledgement(object purpose)
    {
        _state = _state with { ReportsAwaited = _state.ReportsAwaited + 1 };
        _core.Tell(new ReportAcknowledgement(purpose));
    }

    private void OnReport(AcknowledgementReport report, Stage stage)
    {
        var ack = report.Ack;
        _state = _state with { LastInputAck = ack, ReportsAwaited = _state.ReportsAwaited - 1 };
        switch (report.Purpose)
        {
            case AnswerCloseSequence close:
                _state = _state with { ClosedAck = ack };
                SendToClient(_messages.WithFinalAck("CloseSequenceResponse", _version.CloseSequenceResponseAction, ack, close.RelatesTo));
                break;
            case AnswerTerminateSequence terminate:
                SendToClient(_messages.WithFinalAck("TerminateSequenceResponse", _version.TerminateSequenceResponseAction, ack, terminate.RelatesTo));
                OnClientTerminated(stage);
                break;
            case CheckTerminateSequence when ack.Final:
                OnClientTerminated(stage);
                break;
            case CheckTerminateSequence:
                // February 2005: WCF faults a TerminateSequence that comes before every message through the last one is
                // in (ReliableInputConnection.Terminate) with SequenceTerminated, as the client's protocol error.
                _log.Warning("Reliable session {0}: TerminateSequence before the sequence was complete: SequenceTerminated", _inputId);
                _metrics.ReliableSessionFaulted("SequenceTerminated");
                SendToClient(_messages.ClientError(_inputId,
                    "The wsrm:TerminateSequence protocol message was transmitted before the sequence was successfully completed."));
                Context.Stop(Self);
                break;
        }
    }

    // ---------------------------------------------------------------- ending

    /// <summary>Ends the service's own sequence: TerminateSequence (both versions) or CloseSequence (1.1).</summary>
    private void EndOutput(string element, string action) =>
        SendToClient(_messages.EndOutput(element, action, _state.LastNumberSent, _state.EndpointAddress));

    private void OnOutputEnded()
    {
        if (_state.ClientTerminated)
        {
            Finish();
            return;
        }
        Become(OutputEnded);
    }

    private void OnClientTerminated(Stage stage)
    {
        if (stage == Stage.OutputEnded)
        {
            Finish();
            return;
        }
        _state = _state with { ClientTerminated = true };
    }

    private void Finish()
    {
        _log.Info("Reliable session {0} closed", _inputId);
        // Its TerminateSequence (February 2005) or the answer to the client's (1.1) is the one message nothing
        // resends: a connection cut just then leaves the client's Close() waiting, and its next try reaches the
        // endpoint, which answers it from this.
        Context.Parent.Tell(new WsrmProtocol.SessionFinished(_inputId, _outputId, _version, _state.LastInputAck ?? _state.ClosedAck,
            _state.LastNumberSent, _state.EndpointAddress));
        Context.Stop(Self);
    }
}
