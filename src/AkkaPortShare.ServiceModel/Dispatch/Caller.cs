using AkkaPortShare.Worker;

namespace AkkaPortShare.ServiceModel.Dispatch;

/// <summary>
/// Who a session's client proved to be when its connection was secured: a client certificate (TLS) or a Windows
/// identity (Negotiate). Given to the service with SessionStarted and every OperationInvoked; null: not authenticated.
/// </summary>
internal sealed record Caller(FramingSession.ClientCertificate? Certificate, FramingSession.ClientIdentity? Identity)
{
    public static Caller? Of(FramingSession.SessionOpened opened) =>
        opened.ClientCertificate is null && opened.ClientIdentity is null ? null : new Caller(opened.ClientCertificate, opened.ClientIdentity);
}
