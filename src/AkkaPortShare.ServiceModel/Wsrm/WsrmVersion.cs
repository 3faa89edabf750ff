namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>
/// The two WS-ReliableMessaging versions WCF speaks: February 2005 (NetTcpBinding's default) and 1.1. They differ
/// in namespace, in how a sequence ends (LastMessage + TerminateSequence vs CloseSequence + TerminateSequence with
/// responses) and in the fault action.
/// </summary>
public sealed class WsrmVersion
{
    public const string NetRmNamespace = "http://schemas.microsoft.com/ws/2006/05/rm";
    public const string AnonymousAddress = "http://www.w3.org/2005/08/addressing/anonymous";

    public static readonly WsrmVersion February2005 = new("http://schemas.xmlsoap.org/ws/2005/02/rm", is11: false,
        faultAction: "http://www.w3.org/2005/08/addressing/soap/fault");

    public static readonly WsrmVersion V11 = new("http://docs.oasis-open.org/ws-rx/wsrm/200702", is11: true,
        faultAction: "http://docs.oasis-open.org/ws-rx/wsrm/200702/fault");

    private WsrmVersion(string ns, bool is11, string faultAction)
    {
        Namespace = ns;
        Is11 = is11;
        FaultAction = faultAction;
    }

    public string Namespace { get; }
    public bool Is11 { get; }
    public string FaultAction { get; }

    public string CreateSequenceAction => Namespace + "/CreateSequence";
    public string CreateSequenceResponseAction => Namespace + "/CreateSequenceResponse";
    public string SequenceAcknowledgementAction => Namespace + "/SequenceAcknowledgement";
    public string AckRequestedAction => Namespace + "/AckRequested";
    public string LastMessageAction => Namespace + "/LastMessage";
    public string TerminateSequenceAction => Namespace + "/TerminateSequence";
    public string TerminateSequenceResponseAction => Namespace + "/TerminateSequenceResponse";
    public string CloseSequenceAction => Namespace + "/CloseSequence";
    public string CloseSequenceResponseAction => Namespace + "/CloseSequenceResponse";

    /// <summary>The version whose namespace an action (or header namespace) belongs to, if any.</summary>
    public static WsrmVersion? ForAction(string? action) =>
        action is null ? null
        : action.StartsWith(February2005.Namespace + "/", StringComparison.Ordinal) ? February2005
        : action.StartsWith(V11.Namespace + "/", StringComparison.Ordinal) ? V11
        : null;

    public override string ToString() => Is11 ? "WS-RM 1.1" : "WS-RM February 2005";
}
