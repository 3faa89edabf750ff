namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// The routing table of the port-sharing service: who owns which base address, and which registration a
/// connection's via belongs to. Mutable and not thread-safe: it is owned by a single actor.
/// </summary>
/// <typeparam name="TOwner">Identifies a worker; compared with <see cref="EqualityComparer{T}.Default"/>.</typeparam>
public sealed partial class AddressTable<TOwner>
    where TOwner : notnull
{
    private readonly Dictionary<int, PortBucket<TOwner>> _ports = [];

    // Lets RemoveOwner and Entries work without walking every trie. A shared key is listed under each of its holders.
    private readonly Dictionary<TOwner, List<BaseAddress>> _byOwner = [];

    /// <summary>How many keys are registered (a shared key counts once).</summary>
    public int Count { get; private set; }

    public IEnumerable<(BaseAddress Address, TOwner Owner)> Entries
    {
        get
        {
            foreach ((TOwner owner, List<BaseAddress> addresses) in _byOwner)
            {
                foreach (BaseAddress address in addresses)
                {
                    yield return (address, owner);
                }
            }
        }
    }

    /// <summary>The ports that have at least one registration (a listener is needed on each).</summary>
    public IEnumerable<int> Ports => _ports.Keys;

    /// <summary>
    /// Adds <paramref name="address"/> for <paramref name="owner"/>. Returns
    /// <see cref="RegistrationStatus.ConflictingRegistration"/> when exactly this key is registered already, even
    /// by the same owner (the caller decides whether a repeat is harmless), with that owner in
    /// <paramref name="existingOwner"/>. Length and syntax are checked by <see cref="BaseAddress.TryParse(string?, out BaseAddress?, out RegistrationStatus, out string?)"/>,
    /// so only Success and ConflictingRegistration come from here.
    /// </summary>
    public RegistrationStatus TryAdd(BaseAddress address, TOwner owner, out TOwner? existingOwner) =>
        TryAdd(address, owner, shared: false, out existingOwner);

    /// <summary>
    /// As <see cref="TryAdd(BaseAddress, TOwner, out TOwner)"/>, except that a key already registered is joined
    /// (Success) when its holders and <paramref name="owner"/> all asked to share it (<paramref name="shared"/>).
    /// A key registered without sharing, or a newcomer that does not ask, keeps the Windows rule: one holder, and
    /// ConflictingRegistration for anyone else. <paramref name="existingOwner"/> is <paramref name="owner"/> itself
    /// when it holds the key already, else its first holder.
    /// </summary>
    public RegistrationStatus TryAdd(BaseAddress address, TOwner owner, bool shared, out TOwner? existingOwner)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(owner);
        if (!_ports.TryGetValue(address.Port, out PortBucket<TOwner>? bucket))
        {
            bucket = new PortBucket<TOwner>();
            _ports.Add(address.Port, bucket);
        }

        // When the key exists its nodes exist too, so a refused add leaves nothing behind.
        SegmentTrie<TOwner>.Node node = bucket.GetOrCreate(address).GetOrCreate(address.PathSegments);
        if (node.Registration is { } existing)
        {
            if (existing.IsHeldBy(owner) || !(existing.Shared && shared))
            {
                existingOwner = existing.IsHeldBy(owner) ? owner : existing.Owner;
                return RegistrationStatus.ConflictingRegistration;
            }

            existing.Join(owner);
        }
        else
        {
            node.Registration = new Registration<TOwner>(address, owner, shared);
            Count++;
        }

        if (!_byOwner.TryGetValue(owner, out List<BaseAddress>? owned))
        {
            owned = [];
            _byOwner.Add(owner, owned);
        }

        owned.Add(node.Registration.Address);
        existingOwner = default;
        return RegistrationStatus.Success;
    }

    /// <summary>Removes <paramref name="owner"/> from exactly this key, only if it holds it; the key goes with its last holder.</summary>
    public bool TryRemove(BaseAddress address, TOwner owner)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(owner);
        if (FindRegistration(address) is not { } registration || !registration.Leave(owner))
        {
            return false;
        }

        if (registration.Owners.Length == 0)
        {
            RemoveFromTries(registration.Address);
        }

        List<BaseAddress> owned = _byOwner[owner];
        owned.Remove(registration.Address);
        if (owned.Count == 0)
        {
            _byOwner.Remove(owner);
        }

        return true;
    }

    /// <summary>Removes <paramref name="owner"/> from every key it holds (e.g. when the worker died); returns those keys.</summary>
    public IReadOnlyList<BaseAddress> RemoveOwner(TOwner owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (!_byOwner.Remove(owner, out List<BaseAddress>? owned))
        {
            return [];
        }

        foreach (BaseAddress address in owned)
        {
            Registration<TOwner> registration = FindRegistration(address)!;
            registration.Leave(owner);
            if (registration.Owners.Length == 0)
            {
                RemoveFromTries(address);
            }
        }

        return owned;
    }

    /// <summary>Who holds exactly this key (its first holder when it is shared), if anyone.</summary>
    public bool TryGetOwner(BaseAddress address, out TOwner? owner)
    {
        ArgumentNullException.ThrowIfNull(address);
        Registration<TOwner>? registration = FindRegistration(address);
        owner = registration is null ? default : registration.Owner;
        return registration is not null;
    }

    /// <summary>Every holder of exactly this key, oldest first; empty when nobody holds it.</summary>
    public IReadOnlyList<TOwner> Holders(BaseAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return FindRegistration(address)?.Owners ?? [];
    }

    private Registration<TOwner>? FindRegistration(BaseAddress address) =>
        _ports.TryGetValue(address.Port, out PortBucket<TOwner>? bucket)
            ? bucket.Find(address)?.Find(address.PathSegments)?.Registration
            : null;

    private void RemoveFromTries(BaseAddress address)
    {
        PortBucket<TOwner> bucket = _ports[address.Port];
        bucket.Find(address)!.Clear(address.PathSegments);
        bucket.RemoveIfEmpty(address);
        if (bucket.IsEmpty)
        {
            _ports.Remove(address.Port);
        }

        Count--;
    }
}
