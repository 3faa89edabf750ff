using Akka.Actor;

namespace AkkaPortShare.Worker;

/// <summary>
/// What a service actor sees of a net.tcp framing session, and what it may say back. The worker runs the
/// framing itself (PreambleAck, sized envelopes, End, faults); a service only handles whole messages.
/// Tests can stand a TestKit probe in for <c>Session</c> and talk to a service actor without any socket.
/// </summary>
public static class FramingSession
{
    /// <summary>
    /// A client opened a session on one of the service's addresses. Replies go to <paramref name="Session"/>, which
    /// waits for the service's <see cref="Accept"/> (or <see cref="Fault"/>) before it acknowledges the preamble and
    /// delivers any message, as WCF's listener acknowledges a session only once the channel is accepted.
    /// Streamed: the singleton framing mode (WCF's TransferMode.Streamed): one message, delivered as
    /// <see cref="MessageStreamReceived"/>, answered once with <see cref="Send"/>, <see cref="SendStream"/> or
    /// <see cref="NoReply"/>.
    /// </summary>
    public sealed record SessionOpened(IActorRef Session, string Via, string ContentType, string? RemoteAddress, bool Streamed = false)
    {
        /// <summary>The session runs inside TLS (the endpoint's transport security, WCF's SecurityMode.Transport).</summary>
        public bool Secure { get; init; }

        /// <summary>The certificate the client authenticated with (TLS with client-credential-type certificate), else null.</summary>
        public ClientCertificate? ClientCertificate { get; init; }

        /// <summary>The Windows account the client authenticated as (client-credential-type windows), else null.</summary>
        public ClientIdentity? ClientIdentity { get; init; }
    }

    /// <summary>
    /// Who the client proved to be in the TLS handshake: its certificate's subject (distinguished name) and SHA-1
    /// thumbprint (upper-case hex), as WCF's X509CertificateClaimSet names them. The certificate chained to the
    /// endpoint's trusted authorities and passed its allow list before the session was opened.
    /// </summary>
    public sealed record ClientCertificate(string Subject, string Thumbprint);

    /// <summary>
    /// Who the client proved to be with Windows credentials (NetTcpBinding's default, NegotiateStream): the account's
    /// name as <c>DOMAIN\user</c> and how it was authenticated (NTLM or Kerberos), as WCF's
    /// ServiceSecurityContext.PrimaryIdentity gives them.
    /// </summary>
    public sealed record ClientIdentity(string Name, string AuthenticationType);

    /// <summary>
    /// The service takes the session: the PreambleAck goes out, and from now on the session's messages and its
    /// <see cref="SessionClosed"/> go to <paramref name="Handler"/> (the service actor itself, or an actor it made for
    /// this session). The framing session and the handler are one unit: each watches the other, so a handler that
    /// stops aborts the connection, and a handler learns of a connection that ends by <see cref="SessionClosed"/> or
    /// Terminated. Not accepted within receive-timeout, the connection is closed. <paramref name="MaxMessageSize"/>:
    /// this session's largest message (a larger one gets MaxMessageSizeExceeded), as an endpoint's own
    /// MaxReceivedMessageSize; null: the worker's max-message-size.
    /// </summary>
    public sealed record Accept(IActorRef Handler, int? MaxMessageSize = null);

    /// <summary>One message (the payload of a sized envelope, or of the unsized envelope in streamed mode).</summary>
    public sealed record MessageReceived(IActorRef Session, byte[] Payload)
    {
        /// <summary>
        /// The connection can still go to another worker of its address (see Sessions.MoveSession): it came from the
        /// router, is not secured, and nothing but its PreambleAck has been written on it.
        /// </summary>
        internal bool Movable { get; init; }

        public override string ToString() => $"MessageReceived({Payload.Length} bytes)";
    }

    /// <summary>
    /// A streamed message: read <paramref name="Body"/> (off the actor thread) as it arrives. Reading slowly slows
    /// the client down; nothing is buffered beyond a small window.
    /// </summary>
    public sealed record MessageStreamReceived(IActorRef Session, Stream Body);

    /// <summary>The session ended: Graceful when the client sent End, otherwise it dropped or faulted.</summary>
    public sealed record SessionClosed(IActorRef Session, bool Graceful);

    /// <summary>Send a message to the client (written as a sized envelope).</summary>
    public sealed record Send(byte[] Payload)
    {
        public override string ToString() => $"Send({Payload.Length} bytes)";
    }

    /// <summary>Streamed mode: the reply, copied from <paramref name="Body"/> as it is read; the stream is disposed after.</summary>
    public sealed record SendStream(Stream Body);

    /// <summary>Streamed mode: the message needs no reply (a one-way operation); the session may end.</summary>
    public sealed class NoReply
    {
        public static readonly NoReply Instance = new();
        private NoReply() { }
    }

    /// <summary>Answer the session with a framing fault and close the connection.</summary>
    public sealed record Fault(string FaultUri);

    /// <summary>
    /// End the session from the service's side: an End record after everything already sent (what WCF's server does
    /// when it closes a session channel, e.g. after refusing a reliable session). The client answers with its own End
    /// (the connection may then carry a new preamble) or closes the connection; nothing it sends in between is delivered.
    /// </summary>
    public sealed class Close
    {
        public static readonly Close Instance = new();
        private Close() { }
    }

    /// <summary>
    /// Flow control from the service (optional): deliver up to <paramref name="Count"/> more messages. Once a service
    /// has sent this, its session delivers a <see cref="MessageReceived"/> only against such credit and otherwise
    /// stops reading, so what the client sends meanwhile waits in TCP's buffers and then in the client (as with WCF's
    /// throttled dispatcher), not in the service's mailbox. A service that never sends it gets every message as it
    /// arrives; its replies are still bounded by max-unsent-bytes. Streamed messages have their own window.
    /// </summary>
    public sealed record RequestMessages(int Count);

    /// <summary>Close the connection at once, without a framing record (what WCF does with undecodable input).</summary>
    public sealed record Abort(string Reason);
}
