using Akka.Actor;
using AkkaPortShare.Worker;

namespace AkkaPortShare.ServiceModel;

/// <summary>
/// What the actor implementing a WCF service contract receives and answers. The worker decodes SOAP with WCF's
/// own binary session encoder and maps each action to an operation of the contract, so the actor deals in
/// operation names and .NET values only.
/// </summary>
public static class ServiceOperations
{
    /// <summary>
    /// An operation call. For a request/reply operation answer the sender with <see cref="OperationResult"/> or
    /// <see cref="OperationFault"/>; one-way operations expect no answer. <paramref name="Callback"/> reaches the
    /// client's callback contract on the same session (duplex contracts). <paramref name="Arguments"/> has one entry
    /// per parameter of the contract's method; an out parameter's is null, and its value goes back in
    /// <see cref="OperationResult.Outputs"/>.
    /// </summary>
    public sealed record OperationInvoked(string Operation, object?[] Arguments, IActorRef Callback, string SessionId)
    {
        /// <summary>
        /// The certificate the client authenticated with over TLS (an endpoint with transport security and
        /// ClientCredentialType Certificate): its subject and thumbprint; null otherwise. A reliable session's calls
        /// carry the certificate of the connection that created the session.
        /// </summary>
        public FramingSession.ClientCertificate? ClientCertificate { get; init; }

        /// <summary>
        /// The Windows account the client authenticated as (an endpoint with transport security and
        /// ClientCredentialType Windows, NetTcpBinding()'s default): its name (<c>DOMAIN\user</c>) and how (NTLM,
        /// Kerberos), as WCF's ServiceSecurityContext.PrimaryIdentity; null otherwise. A reliable session's calls carry
        /// the identity of the connection that created the session.
        /// </summary>
        public FramingSession.ClientIdentity? ClientIdentity { get; init; }
    }

    public sealed record OperationResult(object? ReturnValue)
    {
        /// <summary>The values of the operation's out and ref parameters, in the order they are declared.</summary>
        public object?[]? Outputs { get; init; }
    }

    /// <summary>
    /// Answers with a SOAP fault. With <paramref name="Detail"/> of a type named in the operation's
    /// [FaultContract], the client throws <c>FaultException&lt;TDetail&gt;</c>; otherwise <c>FaultException</c>.
    /// </summary>
    public sealed record OperationFault(string Reason, string? Code = null, object? Detail = null);

    /// <summary>Calls an operation of the client's callback contract (one-way, or request/reply answered to the sender).</summary>
    public sealed record InvokeCallback(string Operation, params object?[] Arguments);

    /// <summary>A session of the contract began or ended (for services that keep per-session state).</summary>
    public sealed record SessionStarted(string SessionId, IActorRef Callback)
    {
        /// <summary>As <see cref="OperationInvoked.ClientCertificate"/>: who the session's client is, when it proved it.</summary>
        public FramingSession.ClientCertificate? ClientCertificate { get; init; }

        /// <summary>As <see cref="OperationInvoked.ClientIdentity"/>.</summary>
        public FramingSession.ClientIdentity? ClientIdentity { get; init; }
    }

    public sealed record SessionEnded(string SessionId);
}
