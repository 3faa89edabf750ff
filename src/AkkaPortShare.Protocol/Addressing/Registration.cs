namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// One entry of the table: the key as registered and who holds it. Several holders only when every one of them
/// asked to share the address (<see cref="Shared"/>); otherwise exactly one, the Windows service's rule.
/// </summary>
/// <remarks><see cref="Owners"/> is replaced, never changed in place, so a caller may keep the array it was given.</remarks>
internal sealed class Registration<TOwner>(BaseAddress address, TOwner owner, bool shared)
    where TOwner : notnull
{
    public BaseAddress Address { get; } = address;

    /// <summary>The holders, oldest first; never empty while the entry is in a trie.</summary>
    public TOwner[] Owners { get; private set; } = [owner];

    /// <summary>Every holder asked to share: another holder that asks too may join.</summary>
    public bool Shared { get; } = shared;

    public TOwner Owner => Owners[0];

    public bool IsHeldBy(TOwner owner) => Array.IndexOf(Owners, owner) >= 0;

    public void Join(TOwner owner) => Owners = [.. Owners, owner];

    /// <summary>Removes <paramref name="owner"/>; true when it held the entry.</summary>
    public bool Leave(TOwner owner)
    {
        var index = Array.IndexOf(Owners, owner);
        if (index < 0) return false;
        Owners = [.. Owners.AsSpan(0, index), .. Owners.AsSpan(index + 1)];
        return true;
    }
}
