using System.ServiceModel;
using System.ServiceModel.Channels;
using AkkaPortShare.ServiceModel.Contracts;

namespace AkkaPortShare.ServiceModel.Dispatch;

/// <summary>
/// WCF's server rules for the life of a session, kept by a session actor (plain or reliable):
/// - IsTerminating: once an operation marked so is dispatched, the session takes no more calls; each later request
///   is answered with WCF's SessionTerminated fault (the client throws ChannelTerminatedException), and once the
///   terminating operation has answered the session ends (WCF's ChannelHandler and TerminatingOperationBehavior).
/// - IsInitiating = false is the client's rule only: WCF's server dispatches such an operation as a session's first
///   call like any other (CoreWCF's server has no check; the client refuses it in ServiceChannel.PrepareCall).
/// - A reply that is WCF's internal-error fault (an exception other than FaultException, or no answer) is "unhandled":
///   after sending it WCF closes the session channel and aborts the instance (ImmutableDispatchRuntime's cleanup);
///   the client faults its own channel when it reads that fault.
/// </summary>
internal sealed class SessionRules(ContractMap contract, MessageVersion version)
{
    private const string DispatcherNamespace = "http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher";
    private const string DispatcherFaultAction = DispatcherNamespace + "/fault";
    private const string Soap12Namespace = "http://www.w3.org/2003/05/soap-envelope";

    /// <summary>WCF's SFxChannelTerminated0.</summary>
    public const string ChannelTerminatedReason =
        "An operation marked as IsTerminating has already been invoked on this channel, causing the channel's connection " +
        "to terminate.  No more operations may be invoked on this channel.  Please re-create the channel to continue " +
        "communication.";

    /// <summary>An IsTerminating operation was dispatched: no more calls.</summary>
    public bool Terminated { get; private set; }

    /// <summary>
    /// Whether <paramref name="request"/> may be dispatched; when not, <paramref name="refusal"/> is the reply to send
    /// (null for a one-way message, which is dropped). A request that may be dispatched and is terminating marks the
    /// session terminated, so the messages after it are refused even while it runs, as WCF does.
    /// </summary>
    public bool Admit(Message request, out bool terminating, out Message? refusal)
    {
        refusal = null;
        terminating = false;
        if (Terminated)
        {
            if (request.Headers.MessageId is { } messageId)
            {
                refusal = Message.CreateMessage(version,
                    new FaultCode("Sender", Soap12Namespace, new FaultCode("SessionTerminated", DispatcherNamespace)),
                    ChannelTerminatedReason, DispatcherFaultAction);
                refusal.Headers.RelatesTo = messageId;
            }
            return false;
        }
        terminating = contract.TryGetOperation(request.Headers.Action ?? "", out var operation) && operation!.IsTerminating;
        Terminated = terminating;
        return true;
    }

    /// <summary>
    /// True when <paramref name="reply"/> is WCF's internal-error fault, after which the session ends. Reading the
    /// fault consumes a message, so a fault reply is replaced by a copy.
    /// </summary>
    public static bool IsUnhandled(ref Message reply)
    {
        if (!reply.IsFault) return false;
        var buffer = reply.CreateBufferedCopy(int.MaxValue);
        reply.Close();
        reply = buffer.CreateMessage();
        try
        {
            var fault = MessageFault.CreateFault(buffer.CreateMessage(), int.MaxValue);
            return fault.Code.SubCode is { Name: "InternalServiceFault", Namespace: DispatcherNamespace };
        }
        catch (CommunicationException)
        {
            return false;
        }
    }
}
