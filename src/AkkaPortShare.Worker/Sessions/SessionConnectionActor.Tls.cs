using AkkaPortShare.Interop;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Worker.Security;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// Transport security (WCF's SecurityMode.Transport, the application/ssl-tls upgrade): after the client's
/// UpgradeRequest the worker answers UpgradeResponse and runs the server's TLS handshake on the socket (off the actor,
/// its result piped back); the rest of the preamble (PreambleEnd), the PreambleAck and every envelope then travel
/// inside TLS. When the session ends (End both ways) WCF's client pools the raw connection and starts its next session
/// with a plain preamble and a new handshake, so the connection goes back to the socket then, and a pooled
/// connection can still be handed back to the router before its next upgrade.
/// </summary>
internal sealed partial class SessionConnectionActor
{
    public const string SslTlsUpgrade = "application/ssl-tls";

    /// <summary>The preamble stopped at an UpgradeRequest: refuse it as WCF does, or secure the connection.</summary>
    private Step OnUpgradeRequest(string upgrade)
    {
        var via = _preamble.Via!;
        if (_tls is not null)
            return Finished(Fault(FramingFaults.UpgradeInvalid, $"a second stream upgrade ({upgrade}) inside TLS"));
        // Routed before anything is answered: once the handshake ran here, the connection cannot move.
        if (RoutesElsewhere(via)) return Finished(HandBack(via));
        if (!_routes.TryMatchRoute(via, out var route))
            return Finished(Fault(FramingFaults.EndpointNotFound, $"no service of this worker serves {via}"));
        if (route!.Tls is null)
            return Finished(Fault(FramingFaults.UpgradeInvalid,
                $"stream upgrade {upgrade} requested; {route.BaseAddress} has no transport security (its client's security mode is not None?)"));
        if (!string.Equals(upgrade, SslTlsUpgrade, StringComparison.Ordinal))
            return Finished(Fault(FramingFaults.UpgradeInvalid,
                $"stream upgrade {upgrade} requested; {route.BaseAddress} serves {SslTlsUpgrade} (client credential type Windows is not served)"));
        StartHandshake(route.Tls);
        return Step.NeedMoreData; // nothing more is decoded (or read) until the handshake is done
    }

    private void StartHandshake(TlsEndpoint tls)
    {
        // What the client sent after its UpgradeRequest is the start of its handshake, not framing.
        var alreadyRead = _buffer.Unread.ToArray();
        _buffer.Consume(alreadyRead.Length);
        EnvelopeWriter.Record(_outbox, FramingWriter.UpgradeResponse);
        Flush();
        // The handshake writes only after it has read the client's hello, which the client sends only once it has the
        // UpgradeResponse: it never overtakes the write just started.
        var network = new NetworkStream(_socket, ownsSocket: false);
        Stream inner = alreadyRead.Length == 0 ? network : new ReplayStream(alreadyRead, network);
        tls.AuthenticateAsync(inner, CancellationToken.None)
            .PipeTo(Self, success: s => new TlsEstablished(s), failure: e => new TlsFailed(e));
        Enter(() => Upgrading(tls), decode: null);
    }

    /// <summary>The TLS handshake runs; the preamble timer (receive-timeout) bounds it too.</summary>
    private void Upgrading(TlsEndpoint tls)
    {
        Receive<TlsEstablished>(established =>
        {
            _tls = established.Session;
            _io = new TlsIo(established.Session.Stream);
            _log.Debug("TLS with {0} for {1}: {2}, client {3}", _peer, tls.Address, established.Session.Stream.SslProtocol,
                established.Session.Client?.Subject ?? "not authenticated");
            Enter(AwaitingPreamble, DecodePreamble);
            Pump();
        });
        Receive<TlsFailed>(failed =>
        {
            _metrics.Faulted("tls-handshake-failed");
            // As WCF's server: the upgrade fails, the connection is aborted (no fault can reach a client mid-handshake).
            _log.Warning("TLS handshake with {0} for {1} failed, connection closed: {2}", _peer, tls.Address,
                (failed.Cause as TlsHandshakeException)?.Message ?? failed.Cause.Message);
            CloseWithoutFault();
        });
        Receive<PreambleTimeout>(_ => Abort($"the TLS handshake for {tls.Address} did not finish within receive-timeout {_settings.ReceiveTimeout}"));
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
    /// client pools the raw connection), and the session's TLS is discarded (without close_notify, as WCF's).
    /// </summary>
    private void LeaveTls()
    {
        _leavingTls = false;
        var ssl = _tls!.Stream;
        _tls = null;
        _io = _plain;
        ssl.Dispose();
        _decode = () => DecodeRecord(OnRecordBetweenSessions);
        Pump();
    }
}
