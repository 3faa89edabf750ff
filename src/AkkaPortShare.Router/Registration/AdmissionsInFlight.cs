using Akka.Actor;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.Router.Registration;

/// <summary>
/// The registry's hand-over socket checks in flight, by socket path: at most max-concurrent-admissions at once, one
/// per path, so a registrant cannot make the router start unbounded work. Registers naming a path under check wait
/// here (a few per path; a worker retries what is dropped) and are replayed when its check ends. Used only inside
/// the registry actor.
/// </summary>
internal sealed class AdmissionsInFlight(int limit)
{
    // A worker sends one Register per address, and again until answered: a handful per path is plenty.
    private const int MaxDeferredPerPath = 16;

    private sealed record Check(CancellationTokenSource Cancel, Queue<(Register, IActorRef)> Deferred);

    private readonly Dictionary<string, Check> _byPath = new(StringComparer.Ordinal);

    public int Count => _byPath.Count;

    /// <summary>False when <paramref name="limit"/> checks are already running.</summary>
    public bool TryStart(string path, out CancellationToken cancel)
    {
        cancel = default;
        if (_byPath.Count >= limit) return false;
        var check = new Check(new CancellationTokenSource(), new Queue<(Register, IActorRef)>());
        _byPath[path] = check;
        cancel = check.Cancel.Token;
        return true;
    }

    /// <summary>True (and the Register kept for later, or dropped beyond the few kept) when its path is under check.</summary>
    public bool Defer(string path, Register register, IActorRef sender)
    {
        if (!_byPath.TryGetValue(path, out var check)) return false;
        if (check.Deferred.Count >= MaxDeferredPerPath) check.Deferred.Dequeue();
        check.Deferred.Enqueue((register, sender));
        return true;
    }

    /// <summary>Ends the check of <paramref name="path"/>; returns the Registers that waited for it.</summary>
    public IReadOnlyCollection<(Register Register, IActorRef Sender)> Finish(string path)
    {
        if (!_byPath.Remove(path, out var check)) return [];
        check.Cancel.Dispose();
        return check.Deferred;
    }

    /// <summary>The registry stops: every check gives up and closes its socket.</summary>
    public void CancelAll()
    {
        foreach (var check in _byPath.Values) check.Cancel.Cancel();
    }
}
