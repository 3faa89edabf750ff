using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Interop;
using AkkaPortShare.Router.Diagnostics;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Connections;

/// <summary>
/// Owns every socket the router is closing after a framing fault. WCF servers drain a faulted connection (read and
/// discard up to fault-drain-limit, for up to fault-timeout) so the client reads the fault rather than a reset;
/// such a socket no longer counts as pending, so a client that makes every connection end in a fault could hold
/// one socket per connection for fault-timeout. Here at most max-draining-connections drain at once: beyond that
/// the oldest drain is cut short (closed now), which keeps the bound and lets new faults through.
/// </summary>
internal sealed class FaultDrainActor : ReceiveActor
{
    private sealed record DrainEnded(long Id) : IDeadLetterSuppression;

    private sealed record Drain(long Id, string Peer, Socket Socket, CancellationTokenSource Cut);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RouterSettings _settings;
    private readonly HeldConnections _held = HeldConnections.Get(Context.System);
    private readonly RouterMetrics _metrics = RouterMetrics.Get(Context.System);
    // Oldest first; the index finds an ended drain without a scan.
    private readonly LinkedList<Drain> _draining = new();
    private readonly Dictionary<long, LinkedListNode<Drain>> _byId = new();
    private long _nextId;
    private long _cutShort;

    public static Props Props(RouterSettings settings) => Akka.Actor.Props.Create(() => new FaultDrainActor(settings));

    public FaultDrainActor(RouterSettings settings)
    {
        _settings = settings;
        Receive<DrainAfterFault>(Start);
        Receive<DrainEnded>(e => Forget(e.Id));
        Receive<RouterProtocol.GetDrainStatus>(_ => Sender.Tell(new RouterProtocol.DrainStatus(_draining.Count, _cutShort)));
    }

    private void Start(DrainAfterFault fault)
    {
        if (_draining.Count >= _settings.MaxDrainingConnections) CutOldest(fault.Peer);
        _held.Move(fault.Socket, HeldStage.Draining);
        _metrics.Faulted(fault.FaultUri);
        var drain = new Drain(_nextId++, fault.Peer, fault.Socket, new CancellationTokenSource());
        _byId[drain.Id] = _draining.AddLast(drain);
        var id = drain.Id;
        FramingFaultSender
            .SendAndCloseAsync(fault.Socket, fault.FaultUri, _settings.FaultDrainLimit, _settings.FaultTimeout, drain.Cut.Token)
            .PipeTo(Self, success: () => new DrainEnded(id), failure: _ => new DrainEnded(id));
    }

    private void CutOldest(string newcomer)
    {
        var oldest = _draining.First!.Value;
        _cutShort++;
        _log.Info("Closing connection from {0} now, after its fault: max-draining-connections {1} reached (for {2})",
            oldest.Peer, _settings.MaxDrainingConnections, newcomer);
        // The drain's own task closes the socket as it sees the cancellation.
        oldest.Cut.Cancel();
        Forget(oldest.Id);
    }

    private void Forget(long id)
    {
        if (!_byId.Remove(id, out var node)) return;
        _draining.Remove(node);
        node.Value.Cut.Dispose();
        _held.Release(node.Value.Socket); // ended, or cut short and closing now
    }

    protected override void PostStop()
    {
        foreach (var drain in _draining) drain.Cut.Cancel();
    }
}
