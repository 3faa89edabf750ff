using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Diagnostics;
using AkkaPortShare.Router.Registration;
using AkkaPortShare.Router.Relay;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Listening;

/// <summary>
/// The common case, decided in the accept loop itself: the whole preamble (up to the encoding) came with the first
/// read, and the registry's published <see cref="RouteSnapshot"/> routes its via to a worker's gateway. Then the
/// socket goes to that worker from here (through the gateway's lane, see HandoverLane, else its mailbox): no
/// connection actor, no Resolve/RouteFound round trip, no listener message. A via routed to "relay" goes to the
/// splice engine from here the same way (<see cref="RelayHandoff"/>). Everything else (a partial preamble, a
/// bad one, an unknown via, restart-grace parking) goes back to the listener with what was read, and takes
/// the old way through a <see cref="ConnectionActor"/>, which owns every slow and fault path.
/// </summary>
/// <remarks>
/// Thread-safe: it reads only the immutable snapshot and writes only to thread-safe parts (the held ledger, the
/// metrics, a Tell, the lane's lock). The connection is held from its accept (WaitingForHandover once routed, a
/// stage the listener never sheds) until the lane or the gateway releases it, as on the slow path.
/// </remarks>
internal sealed class DirectHandover(RouterSettings settings, RouteSnapshots routes, HeldConnections held, RouterMetrics metrics,
    ILoggingAdapter log, RelayHandoff? relays = null)
{
    /// <summary>
    /// Takes a socket just accepted: null when it was passed to a gateway (it is no longer the caller's); else
    /// what had arrived of it (possibly nothing), for the listener and a connection actor.
    /// </summary>
    /// <remarks>
    /// It reads only what is already there and starts no asynchronous operation on the socket: one that waits for
    /// the client's first bytes belongs to the connection actor, which bounds it (receive-timeout, shedding).
    /// </remarks>
    public PreambleRead? Take(Socket socket, out long acceptedAt)
    {
        acceptedAt = Stopwatch.GetTimestamp(); // for the hand-over latency histogram and the preamble wait
        held.Hold(socket, HeldStage.ReadingPreamble);
        metrics.Accepted();
        try
        {
            socket.NoDelay = true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Reset already: the read below (or the connection actor's) meets it and closes.
        }
        var preamble = PreambleRead.WhatArrived(socket, settings);
        return TryHandOver(socket, preamble, acceptedAt, neverAsync: true, settings.HandoverChannelWait) ? null : preamble;
    }

    /// <summary>Closes a socket <see cref="Take"/> failed on (it is no longer held).</summary>
    public void Abandon(Socket socket)
    {
        socket.Dispose();
        held.Release(socket);
    }

    /// <summary>
    /// Hands the socket over when <paramref name="preamble"/> decides a gateway in the published routes (true: it is
    /// no longer the caller's, and the preamble's buffer went back to the pool); else false and nothing changed.
    /// </summary>
    /// <param name="neverAsync">No asynchronous operation was started on the socket (straight from its accept).</param>
    /// <param name="channelWait">How long the caller may wait for room in a full hand-over channel (the accept thread's
    /// handover-channel-wait; see HandoverLane.TrySendOrCount); zero for any other caller.</param>
    public bool TryHandOver(Socket socket, PreambleRead preamble, long acceptedAt, bool neverAsync = false,
        TimeSpan channelWait = default)
    {
        var decoder = preamble.Decoder;
        if (decoder.Stage is not (PreambleStage.AfterEncoding or PreambleStage.Complete)) return false;
        if (decoder.Mode is not (FramingMode.Duplex or FramingMode.Singleton)) return false;
        if (LocalEndPoint(socket) is not { } local) return false;
        if (!routes.Current.TryMatch(decoder.Via!, local, out var target)) return false;
        if (target!.Gateway is not { } gateway) return TryRelay(socket, preamble, target, acceptedAt, neverAsync);

        held.Move(socket, HeldStage.WaitingForHandover); // never shed from here; the gateway releases it once passed
        var handOver = new HandOver(socket, preamble.ToArray(), decoder.Via!) { NeverAsync = neverAsync };
        preamble.Return();
        if (log.IsDebugEnabled) log.Debug("Passing a connection ({0}) to worker pid {1}", handOver.Via, target.Worker.ProcessId);
        // Sent from here when the worker's gateway holds nothing (nearly always); else behind what it holds.
        if (target.Lane is not { } lane) gateway.Tell(handOver);
        else if (!lane.TrySendOrCount(handOver, channelWait)) lane.SendThroughGateway(gateway, handOver);
        metrics.Dispatched(target.BaseAddress, "fd", acceptedAt);
        return true;
    }

    /// <summary>
    /// A relayed route goes to the splice engine from here too (it connects to the worker and relays); the copy
    /// engine, a worker named by a host name and a full max-relayed-connections (its fault and log line) take the
    /// connection actor's way.
    /// </summary>
    private bool TryRelay(Socket socket, PreambleRead preamble, RouteTarget target, long acceptedAt, bool neverAsync)
    {
        if (relays is null || RelayHandoff.EndPoint(target.Worker) is not { } worker) return false;
        if (!held.TryStartRelay(socket, settings.MaxRelayedConnections)) return false;
        if (log.IsDebugEnabled) log.Debug("Relaying a connection ({0}) to {1}", preamble.Decoder.Via, worker);
        var alreadyRead = preamble.ToArray();
        preamble.Return();
        metrics.Dispatched(target.BaseAddress, "relay", acceptedAt);
        relays.Start(socket, alreadyRead, worker, neverAsync);
        return true;
    }

    private static IPEndPoint? LocalEndPoint(Socket socket)
    {
        try
        {
            return socket.LocalEndPoint as IPEndPoint;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null; // the connection actor's own read meets the error and closes
        }
    }
}
