using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Addressing;
using AkkaPortShare.Interop;
using AkkaPortShare.Registration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Handover;
using static AkkaPortShare.Registration.RegistryProtocol;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Registration;

/// <summary>
/// The one authority over which worker owns which base address on this host. Matching follows the Windows
/// service's rules (see <see cref="AddressTable{TOwner}"/>). A worker is known by its actor reference; when it
/// registers its first address the registry opens the worker's hand-over channel, whose end-of-file tells
/// within milliseconds that the worker process died. DeathWatch covers workers without such a channel.
/// </summary>
internal sealed class RegistryActor : ReceiveActor
{
    private const int MaxAddressBytes = 2048;

    /// <summary>Gateway: the worker's hand-over channel, kept for liveness even when its sockets are relayed.</summary>
    private sealed record Worker(WorkerEndpoint Endpoint, IActorRef? Gateway, bool PassSockets)
    {
        public string HandoverMode => PassSockets ? "fd" : "relay";
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RouterSettings _settings;
    private readonly AddressTable<IActorRef> _table = new();
    private readonly Dictionary<IActorRef, Worker> _workers = new();

    public static Props Props(RouterSettings settings) => Akka.Actor.Props.Create(() => new RegistryActor(settings));

    public RegistryActor(RouterSettings settings)
    {
        _settings = settings;
        Receive<Register>(OnRegister);
        Receive<Unregister>(OnUnregister);
        Receive<Resolve>(OnResolve);
        Receive<Terminated>(t => RemoveWorker(t.ActorRef, "its actor system is unreachable or stopped"));
        Receive<WorkerChannelClosed>(c => RemoveWorker(c.Worker, c.Reason));
        Receive<Reroute>(r => Context.ActorOf(ConnectionActor.Props(r.Socket, Self, _settings, r.AlreadyRead)));
        Receive<ConnectionRouted>(_ => { }); // rerouted connections report here; they are not pending accepts
        Receive<RouterProtocol.GetRegistrations>(_ => Sender.Tell(new RouterProtocol.Registrations(
            _table.Entries.Select(e => new RouterProtocol.RegisteredAddress(
                e.Address.ToString(), _workers[e.Owner].Endpoint.ProcessId, _workers[e.Owner].HandoverMode)).ToList())));
    }

    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    private void OnRegister(Register register)
    {
        // Registrations arrive over the network: a malformed one is refused, never a reason to fail.
        var requested = register.BaseAddress;
        if (requested is null || register.Worker is null)
        {
            Refuse(requested ?? "", RefusalReason.InvalidAddress, "A registration needs a base address and a worker endpoint.");
            return;
        }
        if (Encoding.UTF8.GetByteCount(requested) > MaxAddressBytes)
        {
            Refuse(requested, RefusalReason.PathTooLong, $"The address is longer than {MaxAddressBytes} bytes.");
            return;
        }
        if (!BaseAddress.TryParse(requested, out var address, out var error))
        {
            Refuse(requested, RefusalReason.InvalidAddress, error!);
            return;
        }

        var workerRef = Sender;
        var admittedNow = false;
        if (!_workers.TryGetValue(workerRef, out var worker))
        {
            if (!TryAdmit(workerRef, register.Worker, requested, out worker)) return;
            admittedNow = true;
        }

        var added = _table.TryAdd(address!, workerRef, out var owner) == RegistrationStatus.Success;
        if (!added && !owner!.Equals(workerRef))
        {
            var holder = _workers.TryGetValue(owner, out var w) ? $"worker pid {w.Endpoint.ProcessId}" : "another worker";
            Refuse(requested, RefusalReason.AddressAlreadyInUse,
                $"Address already in use: {address} is already registered by {holder}.");
            if (admittedNow) RemoveWorker(workerRef, null);
            return;
        }

        // A worker resends registrations until answered; only the first one is news.
        if (added) _log.Info("Registered {0} for worker pid {1} ({2})", address, worker!.Endpoint.ProcessId, worker.HandoverMode);
        workerRef.Tell(new Registered(requested, worker!.HandoverMode));
    }

    // Opens the hand-over channel of a worker seen for the first time and checks that the process behind it is
    // the one that claims it (SO_PEERCRED), the way the Windows service checks the registering pid.
    private bool TryAdmit(IActorRef workerRef, WorkerEndpoint endpoint, string requested, out Worker? worker)
    {
        worker = null;
        Socket? channel = null;
        var channelProblem = "the worker offers no hand-over socket";
        if (UnixHandover.IsSupported && endpoint.HandoverPath is { } path)
        {
            try
            {
                channel = UnixHandover.Connect(path);
                var peer = UnixHandover.GetPeerCredentials(channel);
                if (peer.ProcessId != endpoint.ProcessId)
                {
                    channel.Dispose();
                    Refuse(requested, RefusalReason.NotAuthorized,
                        $"The hand-over socket {path} belongs to pid {peer.ProcessId}, not to the registering pid {endpoint.ProcessId}.");
                    return false;
                }
            }
            catch (SocketException e)
            {
                channel?.Dispose();
                channel = null;
                channelProblem = $"its hand-over socket {path} cannot be reached ({e.SocketErrorCode})";
            }
            catch (ArgumentException e)
            {
                // An empty path, or one longer than a Unix socket address holds (107 bytes).
                channel?.Dispose();
                channel = null;
                channelProblem = $"its hand-over socket path is not usable ({e.Message})";
            }
        }

        if (channel is null && _settings.HandoverMode == HandoverMode.Fd)
        {
            Refuse(requested, RefusalReason.HandoverUnavailable,
                $"handover-mode is fd but {channelProblem}.");
            return false;
        }

        var passSockets = channel is not null && _settings.HandoverMode != HandoverMode.Relay;
        var gateway = channel is null
            ? null
            : Context.ActorOf(WorkerGatewayActor.Props(channel, workerRef, endpoint.ProcessId, _settings));
        if (channel is null) _log.Info("Worker pid {0} will be relayed: {1}", endpoint.ProcessId, channelProblem);
        worker = new Worker(endpoint, gateway, passSockets);
        _workers[workerRef] = worker;
        Context.Watch(workerRef);
        return true;
    }

    private void OnUnregister(Unregister unregister)
    {
        if (BaseAddress.TryParse(unregister.BaseAddress, out var address, out _) && _table.TryRemove(address!, Sender))
        {
            _log.Info("Unregistered {0}", address);
            Sender.Tell(new Unregistered(unregister.BaseAddress));
        }
        else
        {
            Refuse(unregister.BaseAddress, RefusalReason.NotOwner,
                $"{unregister.BaseAddress} is not registered by this worker, so it cannot unregister it.");
        }
    }

    private void OnResolve(Resolve resolve)
    {
        if (_table.TryMatch(resolve.Via, resolve.LocalEndPoint, out var matched, out var owner)
            && _workers.TryGetValue(owner!, out var worker))
            Sender.Tell(new RouteFound(matched!.ToString(), worker.Endpoint, worker.PassSockets ? worker.Gateway : null));
        else
            Sender.Tell(new RouteNotFound(resolve.Via));
    }

    private void RemoveWorker(IActorRef workerRef, string? reason)
    {
        if (!_workers.Remove(workerRef, out var worker)) return;
        Context.Unwatch(workerRef);
        if (worker.Gateway is not null) Context.Stop(worker.Gateway);
        var removed = _table.RemoveOwner(workerRef);
        if (reason is not null)
            _log.Warning("Worker pid {0} is gone ({1}): removed {2} address(es) {3}", worker.Endpoint.ProcessId, reason,
                removed.Count, string.Join(", ", removed));
    }

    private void Refuse(string address, RefusalReason reason, string message)
    {
        _log.Warning("Refused registration of {0} by {1}: {2}", address, Sender.Path.Address, message);
        Sender.Tell(new RegistrationRefused(address, reason, message));
    }
}
