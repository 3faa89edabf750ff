using System.Security.Cryptography;
using Akka.Actor;
using AkkaPortShare.Worker.Sessions;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.Worker.Registration;

/// <summary>
/// Where another worker of a shared address is, for a reliable session's connection that came here through a relay
/// and belongs to that worker (see SessionForward): the router is asked, at most <see cref="MaxLookups"/> questions
/// at once, each answered within session-forward-timeout (no answer in time counts as none).
/// </summary>
internal sealed partial class WorkerActor
{
    private const int MaxLookups = 64;

    private sealed record LookupTimedOut(long RequestId);

    private readonly Dictionary<long, IActorRef> _lookups = [];

    private void ReceiveSessionHolderLookups()
    {
        Receive<LocateSessionHolder>(OnLocateSessionHolder);
        Receive<SessionHolder>(OnSessionHolder);
        Receive<LookupTimedOut>(t =>
        {
            if (_lookups.Remove(t.RequestId, out var asker))
                asker.Tell(new SessionHolderLocated(null, 0, $"the router did not answer within {_settings.SessionForwardTimeout.TotalSeconds:0.#} s"));
        });
    }

    private void OnLocateSessionHolder(LocateSessionHolder locate)
    {
        if (_lookups.Count >= MaxLookups)
        {
            Sender.Tell(new SessionHolderLocated(null, 0, $"{MaxLookups} questions to the router are open already"));
            return;
        }
        // Random: the answer is believed only for an open question, so a forged one would have to guess it.
        long id;
        do id = RandomNumberGenerator.GetInt32(int.MaxValue) * (long)int.MaxValue + RandomNumberGenerator.GetInt32(int.MaxValue);
        while (!_lookups.TryAdd(id, Sender));
        Timers.StartSingleTimer(new LookupTimedOut(id), new LookupTimedOut(id), _settings.SessionForwardTimeout);
        _registry.Tell(new FindSessionHolder(id, locate.BaseAddress, locate.Holder.ToString(),
            _settings.RegistrationSecret.Value, _channelToken?.Token));
    }

    private void OnSessionHolder(SessionHolder holder)
    {
        // Only the router's answer to an open question (late answers and anyone else's are dropped).
        if (Sender.Path.Address != _routerAddress || !_lookups.Remove(holder.RequestId, out var asker)) return;
        Timers.Cancel(new LookupTimedOut(holder.RequestId));
        asker.Tell(holder.DataHost is null
            ? new SessionHolderLocated(null, 0, "no worker of the address holds it now")
            : new SessionHolderLocated(holder.DataHost, holder.DataPort));
    }
}
