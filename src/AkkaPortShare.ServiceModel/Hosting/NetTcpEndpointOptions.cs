using System.Security.Cryptography.X509Certificates;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using AkkaPortShare.ServiceModel.Wsrm;

namespace AkkaPortShare.ServiceModel.Hosting;

/// <summary>
/// One endpoint's binding settings, named as WCF's <c>NetTcpBinding</c> names them, so a service's binding code moves
/// over as it is. Every property is optional: one left null takes the operators' HOCON value (whose defaults, WCF's,
/// are in this assembly's reference.conf); one set here wins over HOCON for this endpoint only.
/// </summary>
public sealed record NetTcpEndpointOptions
{
    /// <summary>Largest message this endpoint receives; a larger one gets WCF's MaxMessageSizeExceeded fault
    /// (HOCON: <c>akka-port-share.worker.max-message-size</c>, worker-wide).</summary>
    public long? MaxReceivedMessageSize { get; init; }

    /// <summary>Streamed transfer: the most of a message held in memory, its headers
    /// (HOCON: <c>akka-port-share.service-model.max-buffer-size</c>).</summary>
    public int? MaxBufferSize { get; init; }

    /// <summary>The encoder's reader quotas, whole (unset members keep XmlDictionaryReaderQuotas' own defaults, WCF's);
    /// copied when the endpoint is configured (HOCON: <c>akka-port-share.service-model.max-depth</c> and its siblings).</summary>
    public XmlDictionaryReaderQuotas? ReaderQuotas { get; init; }

    /// <summary>A session with no message from its client this long is closed, as WCF's service closes its channel
    /// (HOCON: <c>akka-port-share.service-model.receive-timeout</c>).</summary>
    public TimeSpan? ReceiveTimeout { get; init; }

    /// <summary>How long an operation (and a callback) may take before the caller gets a fault
    /// (HOCON: <c>akka-port-share.service-model.operation-timeout</c>).</summary>
    public TimeSpan? SendTimeout { get; init; }

    /// <summary>Time a connection has to send its preamble before the service accepts it; worker-wide only
    /// (<c>akka-port-share.worker.receive-timeout</c>): accepted for WCF's sake, not applied per endpoint.</summary>
    public TimeSpan? OpenTimeout { get; init; }

    /// <summary>How long a session whose IsTerminating operation answered waits for its client to close it
    /// (HOCON: <c>akka-port-share.service-model.close-timeout</c>). A closing connection's own wait is worker-wide
    /// (<c>akka-port-share.worker.connection-idle-timeout</c>).</summary>
    public TimeSpan? CloseTimeout { get; init; }

    /// <summary>Null: both, as the client asks (its preamble's mode). Buffered: a streamed client is refused with the
    /// UnsupportedMode fault; any streamed mode: a buffered (duplex session) client is refused likewise.</summary>
    public TransferMode? TransferMode { get; init; }

    /// <summary>WS-ReliableMessaging on this endpoint (HOCON: the <c>reliableSessionPath</c> block, else
    /// <c>akka-port-share.reliable-session</c>).</summary>
    public ReliableSessionOptions? ReliableSession { get; init; }

    /// <summary>Binary (NetTcpBinding's, the default) or text (a <c>CustomBinding(TextMessageEncoding, TcpTransport)</c> client).</summary>
    public EndpointMessageEncoding MessageEncoding { get; init; } = EndpointMessageEncoding.Binary;

    /// <summary>
    /// WCF's <c>NetTcpBinding.Security</c>, as the service's binding sets it (read when the endpoint is configured):
    /// <c>Mode</c> None or Transport, <c>Transport.ClientCredentialType</c> None or Certificate (TLS) or Windows
    /// (NetTcpBinding()'s default: NegotiateStream, NTLM through gss-ntlmssp or Kerberos; its user file or keytab are
    /// HOCON's ntlm-user-file / kerberos-keytab), <c>Transport.ProtectionLevel</c> (Windows: EncryptAndSign, Sign or
    /// None; TLS: EncryptAndSign) and <c>Transport.SslProtocols</c> (TLS 1.2 and 1.3 are served; WCF's default,
    /// TLS 1.0-1.2, keeps HOCON's ssl-protocols). Message security is not served: the worker does not start with it.
    /// Null: HOCON's <c>akka-port-share.worker.transport-security</c> (or <see cref="TransportSecurityPath"/>).
    /// </summary>
    public NetTcpSecurity? Security { get; init; }

    /// <summary>The server certificate with its private key (WCF's <c>ServiceHost.Credentials.ServiceCertificate.Certificate</c>);
    /// null: HOCON's certificate-path. One given here is not reloaded.</summary>
    public X509Certificate2? ServiceCertificate { get; init; }

    /// <summary>Client certificates must chain to one of these (ClientCredentialType Certificate); null: HOCON's trust-store-path.</summary>
    public X509Certificate2Collection? ClientCertificateAuthorities { get; init; }

    /// <summary>SHA-1 thumbprints of the client certificates accepted; null: HOCON's allowed-client-thumbprints.</summary>
    public IReadOnlyCollection<string>? AllowedClientCertificateThumbprints { get; init; }

    /// <summary>HOCON path of this endpoint's own transport-security block (keys as <c>akka-port-share.worker.transport-security</c>,
    /// which it falls back to), where operators name its certificate files.</summary>
    public string? TransportSecurityPath { get; init; }
}

/// <summary>WCF's <c>NetTcpBinding.ReliableSession</c> and <c>ReliableSessionBindingElement</c> settings; null keeps HOCON's.</summary>
public sealed record ReliableSessionOptions
{
    /// <summary>Off: the endpoint speaks no WS-RM; a client's CreateSequence gets ActionNotSupported, as WCF's service without it.</summary>
    public bool? Enabled { get; init; }
    public bool? Ordered { get; init; }
    public TimeSpan? InactivityTimeout { get; init; }

    /// <summary>The one WS-RM version accepted (WCF's ReliableMessagingVersion); null keeps HOCON's (default: either).</summary>
    public WsrmVersion? ReliableMessagingVersion { get; init; }

    /// <summary>1-4096, as WCF's.</summary>
    public int? MaxTransferWindowSize { get; init; }

    /// <summary>1-16384, as WCF's.</summary>
    public int? MaxPendingChannels { get; init; }
}

/// <summary>
/// The message encoding of an endpoint: WCF's binary (NetTcpBinding) or text with one message version
/// (<c>TextMessageEncodingBindingElement(MessageVersion.Soap11 / Soap12 / Soap11WSAddressing10 / Soap12WSAddressing10)</c>).
/// A client of the other encoding is refused with the ContentTypeInvalid framing fault, as WCF's listener refuses it.
/// </summary>
public sealed record EndpointMessageEncoding
{
    public static readonly EndpointMessageEncoding Binary = new((MessageVersion?)null);

    /// <summary>Null: binary.</summary>
    public MessageVersion? TextMessageVersion { get; }

    private EndpointMessageEncoding(MessageVersion? textMessageVersion) => TextMessageVersion = textMessageVersion;

    /// <summary>Text (UTF-8) in <paramref name="messageVersion"/>: SOAP 1.1 or 1.2, with WS-Addressing 1.0 or none.</summary>
    public static EndpointMessageEncoding Text(MessageVersion messageVersion)
    {
        ArgumentNullException.ThrowIfNull(messageVersion);
        if (messageVersion.Envelope == EnvelopeVersion.None)
            throw new ArgumentException("Text encoding needs a SOAP envelope (MessageVersion.Soap11 or Soap12, with or without WS-Addressing 1.0).",
                nameof(messageVersion));
        return new EndpointMessageEncoding(messageVersion);
    }

    public override string ToString() => TextMessageVersion is null ? "Binary" : $"Text({TextMessageVersion})";
}
