namespace AkkaPortShare.Protocol.Framing;

/// <summary>
/// Fault URIs carried by the Fault record. WCF clients map these exact strings to exception types
/// (e.g. EndpointNotFound → EndpointNotFoundException), so they must match byte for byte.
/// </summary>
public static class FramingFaults
{
    public const string Prefix = "http://schemas.microsoft.com/ws/2006/05/framing/faults/";

    /// <summary>No registration/service matches the via.</summary>
    public const string EndpointNotFound = Prefix + "EndpointNotFound";
    /// <summary>The sharing service is paused, or queued sessions were dropped.</summary>
    public const string EndpointUnavailable = Prefix + "EndpointUnavailable";
    /// <summary>Understood by clients (ServerTooBusyException); WCF itself is not known to send it.</summary>
    public const string ServerTooBusy = Prefix + "ServerTooBusy";
    /// <summary>Handing the connection to the worker failed.</summary>
    public const string ConnectionDispatchFailed = Prefix + "ConnectionDispatchFailed";
    /// <summary>The worker could not activate the service for the via.</summary>
    public const string ServiceActivationFailed = Prefix + "ServiceActivationFailed";
    /// <summary>The server's encoder rejects the content type.</summary>
    public const string ContentTypeInvalid = Prefix + "ContentTypeInvalid";
    /// <summary>Content type over the quota (understood by clients; servers normally just abort).</summary>
    public const string ContentTypeTooLong = Prefix + "ContentTypeTooLong";
    /// <summary>Via over the quota (understood by clients; servers normally just abort).</summary>
    public const string ViaTooLong = Prefix + "ViaTooLong";
    /// <summary>A received message exceeds MaxReceivedMessageSize. Note the suffix really ends in "Fault".</summary>
    public const string MaxMessageSizeExceeded = Prefix + "MaxMessageSizeExceededFault";
    /// <summary>Mode byte outside 1–4, or a mode the listener does not serve.</summary>
    public const string UnsupportedMode = Prefix + "UnsupportedMode";
    /// <summary>Major version other than 1.</summary>
    public const string UnsupportedVersion = Prefix + "UnsupportedVersion";
    /// <summary>An upgrade was requested that the server does not offer.</summary>
    public const string UpgradeInvalid = Prefix + "UpgradeInvalid";
}
