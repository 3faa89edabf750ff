using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Principal;

namespace AkkaPortShare.Worker.Security;

/// <summary>
/// Windows credentials on one endpoint (WCF's WindowsStreamSecurityUpgradeAcceptor, NetTcpBinding()'s default):
/// after the application/negotiate upgrade the server's side of NegotiateStream, with the process's own credentials
/// (on Linux GSSAPI: NTLM through gss-ntlmssp and its user file, or Kerberos with a keytab; see
/// <see cref="WindowsAuthentication"/>), at the endpoint's protection level and the identification level WCF's server
/// asks for.
/// </summary>
internal sealed class NegotiateEndpoint(string address, ProtectionLevel protectionLevel) : StreamUpgradeAcceptor
{
    public const string NegotiateUpgrade = "application/negotiate";

    public override string Address { get; } = address;
    public override string Upgrade => NegotiateUpgrade;
    public override string Name => "Windows authentication (application/negotiate)";
    public ProtectionLevel ProtectionLevel { get; } = protectionLevel;

    public override async Task<SecuredSession> AuthenticateAsync(Stream inner, CancellationToken cancel)
    {
        var negotiate = new NegotiateStream(inner, leaveInnerStreamOpen: true);
        try
        {
            // WCF's server: its own default credentials, the endpoint's protection level, Identification.
            await negotiate.AuthenticateAsServerAsync(CredentialCache.DefaultNetworkCredentials, policy: null, ProtectionLevel,
                TokenImpersonationLevel.Identification).WaitAsync(cancel).ConfigureAwait(false);
            var identity = negotiate.RemoteIdentity;
            return new SecuredSession(negotiate, null, new FramingSession.ClientIdentity(identity.Name, identity.AuthenticationType ?? "Negotiate"));
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException or ObjectDisposedException
                                      or System.ComponentModel.Win32Exception or TimeoutException)
        {
            await negotiate.DisposeAsync().ConfigureAwait(false);
            throw new StreamUpgradeException(Refusal(e, ProtectionLevel), e);
        }
    }

    // What GSSAPI said, in words an operator can act on. An AuthenticationException is the client's credentials
    // refused: on Linux .NET reports a wrong password or an unknown user (gss-ntlmssp) only as SEC_E_INTERNAL_ERROR
    // (0x80090304, "Unknown error -2146893052"), so the cause cannot be told apart from other GSSAPI failures.
    private static string Refusal(Exception e, ProtectionLevel protectionLevel)
    {
        var detail = e.InnerException is System.ComponentModel.Win32Exception inner
            ? $"{e.Message.TrimEnd('.')} ({inner.Message.TrimEnd('.')}, 0x{inner.NativeErrorCode:X8})"
            : e.Message;
        return e switch
        {
            AuthenticationException { InnerException: System.ComponentModel.Win32Exception } =>
                "the client's credentials were refused (unknown user or wrong password in the NTLM user file, or a Kerberos " +
                $"ticket the keytab cannot read): {detail}",
            // NegotiateStream's own check: the context protects less than the endpoint requires.
            AuthenticationException => $"{detail} (the client's ProtectionLevel is below the endpoint's protection-level {protectionLevel})",
            _ => detail,
        };
    }
}

/// <summary>A stream upgrade that failed; the message says why (the client's credentials refused, or the protocol).</summary>
internal sealed class StreamUpgradeException(string message, Exception? inner = null) : Exception(message, inner);
