using AkkaPortShare.Interop;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Worker.Security;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Transport security (WCF's SecurityMode.Transport): after the client's UpgradeRequest the worker answers
/// UpgradeResponse and runs the server's side of the endpoint's upgrade on the socket: the TLS handshake
/// (application/ssl-tls) or NegotiateStream (application/negotiate, Windows credentials), off the actor, its result
/// piped back. The rest of the preamble (PreambleEnd), the PreambleAck and every envelope then travel inside the
/// secured stream. When the session ends (End both ways) WCF's client pools the raw connection and starts its next
/// session with a plain preamble and a new upgrade, so the connection goes back to the socket then, and a pooled
/// connection can still be handed back to the router before its next upgrade.
/// </summary>
internal sealed partial class SessionConnectionActor
{
    public const string SslTlsUpgrade = TlsEndpoint.SslTlsUpgrade;
    public const string NegotiateUpgrade = NegotiateEndpoint.NegotiateUpgrade;

    /// <summary>The preamble stopped at an UpgradeRequest: refuse it as WCF does, or secure the connection.</summary>
    private Step OnUpgradeRequest(string upgrade)
    {
        var via = _preamble.Via!;
        if (_secured is not null)
            return Finished(Fault(FramingFaults.UpgradeInvalid, $"a second stream upgrade ({upgrade}) inside a secured session"));
        // Routed before anything is answered: once the upgrade ran here, the connection cannot move.
        if (RoutesElsewhere(via)) return Finished(HandBack(via));
        if (!_routes.TryMatchRoute(via, out var route))
            return Finished(Fault(FramingFaults.EndpointNotFound, $"no service of this worker serves {via}"));
        if (route!.Security is null)
            return Finished(Fault(FramingFaults.UpgradeInvalid,
                $"stream upgrade {upgrade} requested; {route.BaseAddress} has no transport security (its client's security mode is not None?)"));
        if (!string.Equals(upgrade, route.Security.Upgrade, StringComparison.Ordinal))
            return Finished(Fault(FramingFaults.UpgradeInvalid,
                $"stream upgrade {upgrade} requested; {route.BaseAddress} serves {route.Security.Upgrade} " +
                $"(the client's ClientCredentialType is not the endpoint's client-credential-type?)"));
        StartUpgrade(route.Security);
        return Step.NeedMoreData; // nothing more is decoded (or read) until the upgrade is done
    }

    private void StartUpgrade(StreamUpgradeAcceptor security)
    {
        // What the client sent after its UpgradeRequest is the start of its handshake, not framing.
        var alreadyRead = _buffer.Unread.ToArray();
        _buffer.Consume(alreadyRead.Length);
        EnvelopeWriter.Record(_outbox, FramingWriter.UpgradeResponse);
        Flush();
        // The server's side writes only after it has read the client's first message, which the client sends only once
        // it has the UpgradeResponse: it never overtakes the write just started.
        var network = new NetworkStream(_socket, ownsSocket: false);
        Stream inner = alreadyRead.Length == 0 ? network : new ReplayStream(alreadyRead, network);
        // The endpoint's OpenTimeout, when it has one, bounds the upgrade and the rest of the preamble (as WCF's
        // server bounds a channel's open); otherwise the preamble timer (receive-timeout) runs on.
        if (security.OpenTimeout is { } open) Timers.StartSingleTimer(PreambleTimeout.Instance, PreambleTimeout.Instance, open);
        security.AuthenticateAsync(inner, CancellationToken.None)
            .PipeTo(Self, success: s => new Upgraded(s), failure: e => new UpgradeFailed(e));
        Enter(() => Upgrading(security), decode: null);
    }

    /// <summary>The TLS handshake or Windows authentication runs; the preamble timer (OpenTimeout or receive-timeout) bounds it.</summary>
    private void Upgrading(StreamUpgradeAcceptor security)
    {
        Receive<Upgraded>(upgraded =>
        {
            _secured = upgraded.Session;
            _io = new SecuredIo(upgraded.Session.Stream);
            _log.Debug("{0} with {1} for {2}: {3}", security.Name, _peer, security.Address, upgraded.Session.Describe());
            Enter(AwaitingPreamble, DecodePreamble);
            Pump();
        });
        Receive<UpgradeFailed>(failed =>
        {
            _metrics.Faulted(security is NegotiateEndpoint ? "negotiate-failed" : "tls-handshake-failed");
            // As WCF's server: the upgrade fails, the connection is aborted (no fault can reach a client mid-handshake;
            // NegotiateStream has already told the client its error).
            _log.Warning("{0} with {1} for {2} failed, connection closed: {3}", security.Name, _peer, security.Address,
                failed.Cause.Message);
            CloseWithoutFault();
        });
        Receive<PreambleTimeout>(_ => Abort($"the {security.Name} for {security.Address} did not finish within " +
            (security.OpenTimeout is { } open ? $"its OpenTimeout {open}" : $"receive-timeout {_settings.ReceiveTimeout}")));
        ReceiveIo(EndOfStreamOutsideSession);
    }

    /// <summary>Refuses the connection without a fault (as WCF's server aborts it), drained so the client sees it closed, not reset.</summary>
    private void CloseWithoutFault()
    {
        EndSession(graceful: false);
        _socketGivenAway = true;
        _ = FramingFaultSender.DrainAndCloseAsync(_socket, _settings.FaultDrainLimit, _settings.FaultTimeout);
        Context.Stop(Self);
    }

    /// <summary>
    /// The secured session's End is written: the connection is plain again for the client's next preamble (WCF's
    /// client pools the raw connection), and the session's secured stream is discarded (without close_notify, as WCF's).
    /// </summary>
    private void LeaveSecured()
    {
        _leavingSecured = false;
        var secured = _secured!.Stream;
        _secured = null;
        _io = _plain;
        secured.Dispose();
        _decode = () => DecodeRecord(OnRecordBetweenSessions);
        Pump();
    }
}
