using System.ServiceModel.Channels;
using Akka.Actor;
using Akka.Event;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>Messages between a connection's SOAP actor and the reliable-session actors of its endpoint.</summary>
internal static class WsrmProtocol
{
    /// <summary>A WS-RM message that arrived on <paramref name="Connection"/> (which becomes the session's current one).</summary>
    public sealed record RmReceived(MessageBuffer Message, WsrmVersion Version, IActorRef Connection)
        : INoSerializationVerificationNeeded
    {
        /// <summary>The client certificate of the TLS connection it came on; a session keeps its CreateSequence's.</summary>
        public AkkaPortShare.ServiceModel.Dispatch.Caller? Caller { get; init; }

        /// <summary>The connection can still be passed to another worker of the address (FramingSession.MessageReceived.Movable).</summary>
        public bool Movable { get; init; }

        /// <summary>
        /// The identifier of the message's Sequence header, read once by the connection's SOAP actor (null: none, or
        /// unreadable): the endpoint routes a live session's message by it without building the message again.
        /// </summary>
        public string? SequenceId { get; init; }
    }

    /// <summary>
    /// To a connection: an <see cref="RmReceived"/> it sent has been handled (answered, refused, or taken into its
    /// session). Until then the message counts against the connection's max-concurrent-calls-per-session.
    /// </summary>
    public sealed class RmHandled
    {
        public static readonly RmHandled Instance = new();
        private RmHandled() { }
    }

    /// <summary>To a connection: encode and send this message.</summary>
    public sealed record SendSoap(MessageBuffer Message) : INoSerializationVerificationNeeded;

    /// <summary>Endpoint to session: the service takes the session now (it was pending until here).</summary>
    public sealed class Accepted
    {
        public static readonly Accepted Instance = new();
        private Accepted() { }
    }

    /// <summary>To a connection: end it (framing End) once what was sent before is out, as WCF's listener does after a refusal.</summary>
    public sealed class CloseConnection
    {
        public static readonly CloseConnection Instance = new();
        private CloseConnection() { }
    }

    /// <summary>
    /// Session to endpoint, as it stops after closing normally: what it said last, for a client that did not hear it
    /// (see <see cref="FinishedSessions"/>).
    /// </summary>
    /// <param name="FinalAck">The last acknowledgement of the client's (complete) sequence.</param>
    /// <param name="LastNumberSent">The last number of the service's own sequence, which its TerminateSequence names.</param>
    public sealed record SessionFinished(string InputId, string? OutputId, WsrmVersion Version,
        ReliableSessions.ReliableSessionProtocol.AckPacket? FinalAck, long LastNumberSent, string? EndpointAddress);

    /// <summary>To an endpoint: the service is shutting down; new sessions get EndpointUnavailable, live ones go on.</summary>
    public sealed class StopAccepting : IDeadLetterSuppression
    {
        public static readonly StopAccepting Instance = new();
        private StopAccepting() { }
    }
}
