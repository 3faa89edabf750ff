using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Interop;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Router.Connections;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Handover;

/// <summary>
/// A way past one worker's gateway mailbox for the accept thread, the preamble waits and connection actors: while the gateway has nothing waiting, nothing
/// on its sender thread and nothing of this lane's in its mailbox, a hand-over is sent right here with the same
/// non-blocking sendmsg the gateway would make. Anything else (the channel full, an error, the gateway busy) goes
/// to the gateway as a <see cref="LanedHandOver"/>, behind what it holds, so its queue, handover-timeout,
/// handover-queue-limit and fault answers apply unchanged.
/// </summary>
/// <remarks>
/// The gateway reports its state here (<see cref="Received"/>, <see cref="SetBusy"/>, <see cref="Close"/>). The
/// lock is held for one non-blocking sendmsg at most, never for a wait. Connection actors whose route came from the
/// published routes use the lane too; those that asked the registry tell the gateway directly (not counted): those
/// connections are concurrent with the lane's, with no order between them to keep.
/// </remarks>
internal sealed class HandoverLane(Socket channel, HeldConnections held, ILoggingAdapter log)
{
    private readonly Lock _lock = new();
    private readonly byte[] _payload = new byte[UnixHandover.MaxMessageSize];
    private int _inMailbox; // LanedHandOvers told to the gateway and not yet received by it
    private bool _busy;     // the gateway holds hand-overs (waiting, or on its sender thread)
    private bool _closed;

    /// <summary>
    /// Sends the hand-over now when nothing is ahead of it and the channel has room (true: the socket is gone);
    /// otherwise false, counted as on its way to the gateway: the caller must then tell the gateway a
    /// <see cref="LanedHandOver"/> (<see cref="SendThroughGateway"/>).
    /// </summary>
    /// <param name="patience">
    /// How long to wait for room when the channel is full and nothing else is ahead (handover-channel-wait; only
    /// the accept thread waits, never an actor). A burst can outrun the worker's hand-over thread for a moment on a
    /// busy machine; the gateway's way (a message to the actor, then its sender thread) costs the router several
    /// thread wake-ups per hand-over for as long as the burst lasts, while a wait here costs one and holds new
    /// clients in the kernel's backlog meanwhile. Waited outside the lock: the gateway and connection actors never
    /// wait behind it.
    /// </param>
    public bool TrySendOrCount(HandOver handOver, TimeSpan patience = default)
    {
        bool full;
        lock (_lock)
        {
            if (CountIfBlocked()) return false;
            if (!TrySend(handOver, out full) && (!full || patience <= TimeSpan.Zero))
            {
                _inMailbox++;
                return false;
            }
        }
        if (full && !SendAfterWait(handOver, WaitForRoom(patience))) return false;
        Release(handOver); // our copy of a passed socket: nothing of the channel's, so outside the lock
        return true;
    }

    // True (and counted) when something is ahead of a new hand-over: it must go behind it, through the gateway.
    private bool CountIfBlocked()
    {
        if (!_closed && _inMailbox == 0 && !_busy) return false;
        _inMailbox++;
        return true;
    }

    // After the wait: sent unless something went ahead meanwhile or there is still no room (then counted).
    private bool SendAfterWait(HandOver handOver, bool room)
    {
        lock (_lock)
        {
            if (CountIfBlocked()) return false;
            if (room && TrySend(handOver, out _)) return true;
            _inMailbox++;
            return false;
        }
    }

    private bool WaitForRoom(TimeSpan patience)
    {
        try
        {
            return channel.Poll(patience, SelectMode.SelectWrite);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false; // the gateway meets the same error and answers for it
        }
    }

    /// <summary>Tells the gateway a hand-over the lane could not send, behind whatever it holds.</summary>
    public void SendThroughGateway(IActorRef gateway, HandOver handOver) => gateway.Tell(new LanedHandOver(handOver));

    /// <summary>Gateway: a <see cref="LanedHandOver"/> reached it.</summary>
    public void Received()
    {
        lock (_lock) _inMailbox--;
    }

    /// <summary>Gateway: it holds hand-overs (true) or none any more (false).</summary>
    public void SetBusy(bool busy)
    {
        lock (_lock) _busy = busy;
    }

    /// <summary>Gateway, as it stops: nothing more is sent here (laned ones then become dead letters, and faults).</summary>
    public void Close()
    {
        lock (_lock) _closed = true;
    }

    // Any failure leaves the hand-over to the gateway, which meets the same error and answers for it. Full: the
    // channel had no room (nothing failed).
    private bool TrySend(HandOver handOver, out bool full)
    {
        full = false;
        try
        {
            var length = HandoverFrame.Write(_payload, handOver.AlreadyRead, handOver.Resumed);
            if (UnixHandover.TrySend(channel, _payload.AsSpan(0, length), handOver.Socket)) return true;
            full = true;
            return false;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            return false;
        }
    }

    private void Release(HandOver handOver)
    {
        try
        {
            UnixHandover.ReleaseAfterHandover(handOver.Socket, handOver.NeverAsync);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            log.Warning("Passed {0} to a worker, but releasing the router's copy failed: {1}", handOver, e.Message);
        }
        held.Release(handOver.Socket);
    }
}

/// <summary>Lane to gateway: a hand-over the lane counted (<see cref="HandoverLane.Received"/> when it arrives).</summary>
internal sealed record LanedHandOver(HandOver HandOver) : ICarriesHandOver, INoSerializationVerificationNeeded;
