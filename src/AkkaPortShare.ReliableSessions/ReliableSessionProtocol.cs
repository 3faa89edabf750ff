using Akka.Actor;
using AkkaPortShare.Protocol.TransferWindows;

namespace AkkaPortShare.ReliableSessions;

/// <summary>
/// The messages of a reliable session, transport-agnostic: WCF's WS-RM maps onto the packets, and any Akka code
/// can carry them over its own transport (see <see cref="ReliableSessionActor"/>).
/// </summary>
public static class ReliableSessionProtocol
{
    /// <summary>What travels between the two ends of a session.</summary>
    public interface IPacket
    {
        string SequenceId { get; }
    }

    /// <summary>
    /// Message <paramref name="Number"/> of a sequence. A null payload with <paramref name="Last"/> only marks the
    /// end (WS-RM Feb 2005's LastMessage). <paramref name="Ack"/> piggybacks an acknowledgement of the other sequence.
    /// </summary>
    public sealed record SequencePacket(string SequenceId, long Number, bool Last, bool AckRequested, object? Payload,
        AckPacket? Ack = null) : IPacket;

    public sealed record AckPacket(string SequenceId, IReadOnlyList<SequenceRange> Ranges, int? BufferRemaining,
        bool Final = false) : IPacket;

    public sealed record AckRequestPacket(string SequenceId) : IPacket;

    /// <summary>
    /// The peer ends its sequence at <paramref name="LastNumber"/> without a message of its own (WS-RM 1.1
    /// CloseSequence). Answered with a final acknowledgement.
    /// </summary>
    public sealed record EndOfSequencePacket(string SequenceId, long LastNumber) : IPacket;

    /// <summary>Transport to session: a packet from the peer. It also makes <paramref name="Transport"/> the one replies go to.</summary>
    public sealed record Inbound(IPacket Packet, IActorRef Transport);

    /// <summary>Session to transport: send this packet to the peer.</summary>
    public sealed record Outbound(IPacket Packet);

    /// <summary>Owner to session: send a message reliably (queued while the transfer window is full).</summary>
    public sealed record Send(object Payload);

    /// <summary>Owner to session: deliver the next message when there is one (one delivery per request).</summary>
    public sealed class RequestNext
    {
        public static readonly RequestNext Instance = new();
        private RequestNext() { }
    }

    /// <summary>
    /// Owner to session: the peer came back on a new connection. Whatever was in flight probably went down with the
    /// old one, so every unacknowledged message is resent now, and the retry timeout starts again from the estimate.
    /// </summary>
    public sealed class PeerReconnected
    {
        public static readonly PeerReconnected Instance = new();
        private PeerReconnected() { }
    }

    /// <summary>
    /// Owner to session: nothing more to send; end the outgoing sequence once all is acknowledged.
    /// <paramref name="EndMarker"/>: send a bare last message first (WS-RM Feb 2005's LastMessage); without it the
    /// owner announces the end itself (WS-RM 1.1's CloseSequence, using <see cref="OutputClosed.LastNumber"/>).
    /// </summary>
    public sealed record CloseOutput(bool EndMarker = true);

    /// <summary>
    /// Owner to session: report the acknowledgement of the incoming sequence as it stands once everything told to the
    /// session before this is handled (mailbox order), for the owner to send in an answer of its own (WS-RM's
    /// CloseSequenceResponse, TerminateSequenceResponse). Answered to the sender with <see cref="AcknowledgementReport"/>;
    /// the reported acknowledgement counts as sent, so a standalone one that was due is not.
    /// <paramref name="Purpose"/> comes back unchanged: what the owner wanted the acknowledgement for.
    /// </summary>
    public sealed record ReportAcknowledgement(object Purpose);

    /// <summary>Session to owner: the answer to <see cref="ReportAcknowledgement"/>.</summary>
    public sealed record AcknowledgementReport(AckPacket Ack, object Purpose);

    /// <summary>Session to owner: the next message of the incoming sequence, in order unless the session is unordered.</summary>
    public sealed record Deliver(long Number, object Payload);

    /// <summary>Session to owner: every message sent, through <paramref name="LastNumber"/>, is acknowledged.</summary>
    public sealed record OutputClosed(long LastNumber);

    /// <summary>Session to owner: the peer's last message arrived and everything before it was delivered.</summary>
    public sealed class InputCompleted
    {
        public static readonly InputCompleted Instance = new();
        private InputCompleted() { }
    }

    public enum FaultKind
    {
        /// <summary>Retries exhausted, inactivity, or a protocol violation: the session is over (WS-RM SequenceTerminated).</summary>
        SequenceTerminated,

        /// <summary>The peer acknowledged a number never sent.</summary>
        InvalidAcknowledgement,

        /// <summary>A message number after the announced last one (WS-RM 1.1 calls it SequenceClosed).</summary>
        LastMessageNumberExceeded,

        /// <summary>A message number beyond max-message-number: received from the peer, or the next one to send.</summary>
        MessageNumberRollover,
    }

    /// <summary>
    /// Session to owner: the session failed and stopped. <paramref name="SequenceId"/> is the sequence the fault is
    /// about; <paramref name="Ranges"/> are the offending acknowledgement's ranges (InvalidAcknowledgement only).
    /// </summary>
    public sealed record SessionFaulted(FaultKind Kind, string Reason, string SequenceId, IReadOnlyList<SequenceRange>? Ranges = null);
}
