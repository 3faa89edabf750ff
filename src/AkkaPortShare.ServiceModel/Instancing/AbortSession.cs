namespace AkkaPortShare.ServiceModel.Instancing;

/// <summary>
/// To a session actor (OperationInvoked.Callback) from a service instance: a one-way call threw an exception that is
/// not a FaultException. No reply can carry the failure, so WCF aborts the session channel (and the instance); the
/// client's next call on it fails with a CommunicationException.
/// </summary>
internal sealed record AbortSession(string SessionId, string Reason);
