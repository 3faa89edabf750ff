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
            throw new StreamUpgradeException(Refusal(e), e);
        }
    }

    private const int LogonDenied = unchecked((int)0x8009030C); // SEC_E_LOGON_DENIED

    // What GSSAPI said, in words an operator can act on.
    private static string Refusal(Exception e)
    {
        var win32 = e.InnerException as System.ComponentModel.Win32Exception;
        var detail = win32 is null ? e.Message : $"{e.Message} ({win32.Message.TrimEnd('.')}, 0x{win32.NativeErrorCode:X8})";
        // SEC_E_LOGON_DENIED: unknown user or wrong password (gss-ntlmssp: not in the user file, or another password).
        return win32 is not null && (win32.NativeErrorCode == LogonDenied || win32.HResult == LogonDenied)
            ? $"the client's credentials were refused (unknown user or wrong password): {detail}"
            : detail;
    }
}

/// <summary>A stream upgrade that failed; the message says why (the client's credentials refused, or the protocol).</summary>
internal sealed class StreamUpgradeException(string message, Exception? inner = null) : Exception(message, inner);
