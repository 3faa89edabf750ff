using Akka.Actor;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Protocol.Addressing;

namespace AkkaPortShare.Router.Registration;

/// <summary>
/// The registry's tables: which worker owns which address (<see cref="AddressTable{TOwner}"/>), and how each admitted
/// worker is found again: by its hand-over socket path and gateway (a worker with a channel), or by its actor
/// reference (one admitted with registration-secret). Kept consistent here; the actor does the watching and stopping.
/// Used only inside the registry actor.
/// </summary>
internal sealed class WorkerRegistrations
{
    public enum AddResult { Added, AlreadyTheirs, TakenByAnother }

    private readonly AddressTable<RegisteredWorker> _table = new();
    private readonly Dictionary<IActorRef, RegisteredWorker> _byActor = new();   // workers without a hand-over channel
    private readonly Dictionary<string, RegisteredWorker> _byChannel = new();    // by hand-over socket path
    private readonly Dictionary<IActorRef, RegisteredWorker> _byGateway = new();

    public IEnumerable<(BaseAddress Address, RegisteredWorker Owner)> Entries => _table.Entries;

    public RegisteredWorker? ByActor(IActorRef sender) => _byActor.GetValueOrDefault(sender);

    public RegisteredWorker? ByChannel(string path) => _byChannel.GetValueOrDefault(path);

    public RegisteredWorker? ByGateway(IActorRef gateway) => _byGateway.GetValueOrDefault(gateway);

    /// <summary>The worker the channel token was sent to (compared in constant time), if any.</summary>
    public RegisteredWorker? ByToken(string token) => _byChannel.Values.FirstOrDefault(w => w.ChannelToken!.Matches(token));

    /// <summary>A worker whose hand-over socket passed its check: found by its path, and by its gateway.</summary>
    public void AdmitWithChannel(RegisteredWorker worker)
    {
        _byChannel[worker.Endpoint.HandoverPath!] = worker;
        _byGateway[worker.Gateway!] = worker;
    }

    /// <summary>A worker admitted with registration-secret: found by its actor reference.</summary>
    public void AdmitWithoutChannel(RegisteredWorker worker) => _byActor[worker.ReplyTo] = worker;

    /// <summary>
    /// Gives <paramref name="address"/> to <paramref name="worker"/> unless another worker has it (then
    /// <paramref name="owner"/>); with <paramref name="shared"/>, it joins holders that all asked to share it too.
    /// </summary>
    public AddResult Add(BaseAddress address, RegisteredWorker worker, out RegisteredWorker? owner, bool shared = false)
    {
        if (_table.TryAdd(address, worker, shared, out owner) == RegistrationStatus.Success) return AddResult.Added;
        return owner == worker ? AddResult.AlreadyTheirs : AddResult.TakenByAnother;
    }

    public bool Remove(BaseAddress address, RegisteredWorker owner) => _table.TryRemove(address, owner);

    /// <summary>Every worker holding exactly this address, oldest first (several only when it is shared).</summary>
    public IReadOnlyList<RegisteredWorker> Holders(BaseAddress address) => _table.Holders(address);

    public bool TryMatch(string via, System.Net.IPEndPoint localEndPoint, out BaseAddress? matched, out IReadOnlyList<RegisteredWorker>? holders) =>
        _table.TryMatchAll(via, localEndPoint, out matched, out holders);

    /// <summary>Forgets the worker and every address it owned (returned); null when it was forgotten already.</summary>
    public IReadOnlyList<BaseAddress>? RemoveWorker(RegisteredWorker worker)
    {
        if (worker.ChannelToken is null)
        {
            if (!_byActor.Remove(worker.ReplyTo)) return null;
        }
        else
        {
            if (!_byChannel.Remove(worker.Endpoint.HandoverPath!)) return null;
            _byGateway.Remove(worker.Gateway!);
        }
        return _table.RemoveOwner(worker);
    }
}
