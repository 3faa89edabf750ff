using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;
using AkkaPortShare.Contracts.Cluster;
using static AkkaPortShare.Router.Cluster.ClusterRegistryProtocol;

namespace AkkaPortShare.Router.Cluster;

// A worker member's death seen at once. A killed process closes its TCP connections, so Akka.Remote on every router
// associated with it (all of them in a small cluster: each heartbeats each member) publishes a DisassociatedEvent
// within milliseconds, long before the failure detector's pause has run out (about 2 s at the defaults). But an
// association closing proves nothing by itself: Akka.Remote closes one it replaces by another, and a link may drop
// and come back. So the loss only starts a probe of the worker's data endpoint (the listener this router relays to,
// DataEndpointProbe): refused (nothing listens: its process is gone) or silent, and the registry stops routing new
// connections to the node at once; accepting, and nothing changes. A silent node is probed again every
// heartbeat-interval while it is still a reachable member; once it accepts again it is routed again, without an
// operator. Whether it is dead stays the failure detector's decision (unreachable: its registrations go and it is
// downed, as before), which also remains the only signal for a host that vanishes without closing its connections.
internal sealed partial class ClusterRegistryActor
{
    private sealed record ProbeDone(Address Node, DataEndpointProbe.Outcome Outcome);

    private sealed record ProbeAgain(Address Node);

    private void SubscribeAssociations() => Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));

    private void WatchAssociations()
    {
        Receive<DisassociatedEvent>(d => Probe(d.RemoteAddress));
        Receive<ProbeDone>(OnProbeDone);
        Receive<ProbeAgain>(a =>
        {
            if (_state.Silent.Contains(a.Node)) Probe(a.Node);
        });
    }

    // One probe per node at a time (a closing association publishes several events); only for a worker member that
    // has registrations this router routes to.
    private void Probe(Address node)
    {
        if (_state.Probing.Contains(node) || !IsReachableWorker(node.ToString())) return;
        var endpoint = _state.Owners.Values.Where(e => e.WorkerNode == node.ToString())
            .Select(e => (e.Worker.DataHost, e.Worker.DataPort)).FirstOrDefault();
        if (endpoint.DataHost is null) return;
        _state = _state with { Probing = _state.Probing.Add(node) };
        DataEndpointProbe.RunAsync(endpoint.DataHost, endpoint.DataPort, _settings.AcceptableHeartbeatPause)
            .PipeTo(Self, success: o => new ProbeDone(node, o),
                failure: e => new ProbeDone(node, new DataEndpointProbe.Outcome(false, $"the probe failed: {e.Message}")));
    }

    private void OnProbeDone(ProbeDone done)
    {
        var node = done.Node;
        _state = _state with { Probing = _state.Probing.Remove(node) };
        // Unreachable or gone meanwhile: the failure detector's path removes its registrations.
        if (!IsReachableWorker(node.ToString()))
        {
            ForgetSilence(node, null);
            return;
        }
        if (done.Outcome.Accepts)
        {
            if (_state.Silent.Contains(node)) ForgetSilence(node, done.Outcome.Detail);
            else _log.Info("Association with worker node {0} closed, and {1}: still routed", node, done.Outcome.Detail);
            return;
        }
        if (!_state.Silent.Contains(node))
        {
            _state = _state with { Silent = _state.Silent.Add(node) };
            _registry.Tell(new WorkerNodeSilent(node, $"its association with this router closed and {done.Outcome.Detail}"));
        }
        Timers.StartSingleTimer(("probe", node), new ProbeAgain(node), _settings.HeartbeatInterval);
    }

    // reason null: the registry is told otherwise (the node is unreachable: its registrations go).
    private void ForgetSilence(Address node, string? reason)
    {
        Timers.Cancel(("probe", node));
        if (!_state.Silent.Contains(node)) return;
        _state = _state with { Silent = _state.Silent.Remove(node) };
        if (reason is not null) _registry.Tell(new WorkerNodeAnswers(node, reason));
    }
}
