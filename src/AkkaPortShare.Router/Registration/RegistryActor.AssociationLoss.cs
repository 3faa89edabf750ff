using Akka.Actor;
using Akka.Event;
using Akka.Remote;
using AkkaPortShare.Router.Cluster;

namespace AkkaPortShare.Router.Registration;

// A worker admitted by registration-secret (no hand-over channel: another host, or relay mode) that is not a cluster
// member was known dead only by Akka.Remote's watch: worker-acceptable-heartbeat-pause (3 s) of missed heartbeats.
// But a killed process closes its TCP connections, so this router's association with it ends within milliseconds
// (DisassociatedEvent). That alone proves nothing (Akka.Remote replaces associations; links drop and come back), so it
// starts a probe of the worker's data endpoint, the listener this router relays to: refused, reset at once or
// unanswered, and nothing can reach the worker any more: its registrations go now (on every router, in a cluster),
// and a live worker whose association dropped registers again as it always does after losing its router. Accepting:
// nothing changes. Worker members are left to the cluster registry (it silences them on the same evidence, and the
// failure detector decides their death).
internal sealed partial class RegistryActor
{
    private sealed record AssociationProbed(Address Node, string DataHost, int DataPort, DataEndpointProbe.Outcome Outcome);

    private readonly HashSet<Address> _probingNodes = [];

    private void SubscribeAssociations() => Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));

    private void ReceiveAssociationLoss()
    {
        Receive<DisassociatedEvent>(d => ProbeAfterAssociationLoss(d.RemoteAddress));
        Receive<AssociationProbed>(OnAssociationProbed);
    }

    private IReadOnlyList<RegisteredWorker> SecretWorkersOn(Address node) =>
        _state.Workers.Entries.Select(e => e.Owner)
            .Where(w => w.Gateway is null && !IsPlaceholder(w) && w.ReplyTo.Path.Address.Equals(node)).Distinct().ToList();

    // One probe per node at a time (a closing association publishes several events).
    private void ProbeAfterAssociationLoss(Address node)
    {
        if (_probingNodes.Contains(node) || IsClusterMember(node) || SecretWorkersOn(node) is not [var worker, ..]) return;
        _probingNodes.Add(node);
        var (host, port) = (worker.Endpoint.DataHost, worker.Endpoint.DataPort);
        DataEndpointProbe.RunAsync(host, port, _settings.RelayConnectTimeout)
            .PipeTo(Self, success: o => new AssociationProbed(node, host, port, o),
                failure: e => new AssociationProbed(node, host, port, new DataEndpointProbe.Outcome(false, $"the probe failed: {e.Message}")));
    }

    private void OnAssociationProbed(AssociationProbed probed)
    {
        _probingNodes.Remove(probed.Node);
        // Only the workers behind the endpoint probed (one registering meanwhile from a new process is not judged).
        var workers = SecretWorkersOn(probed.Node)
            .Where(w => w.Endpoint.DataHost == probed.DataHost && w.Endpoint.DataPort == probed.DataPort).ToList();
        if (workers.Count == 0) return; // gone meanwhile (unregistered, or its remote watch fired)
        if (probed.Outcome.Accepts)
        {
            _log.Info("Association with worker {0} closed, and {1}: still registered", workers[0].Describe(), probed.Outcome.Detail);
            return;
        }
        foreach (var worker in workers) RemoveWorker(worker, $"its association with this router closed and {probed.Outcome.Detail}");
    }

    private bool IsClusterMember(Address node) =>
        _clusterProps is not null && Akka.Cluster.Cluster.Get(Context.System).State.Members.Any(m => m.Address.Equals(node));
}
