namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// Every registration on one port, split by mode: one trie for '+', one for '*', and one per Exact host.
/// Exact hosts are looked up by span (case-insensitively) so that routing a via does not copy its host.
/// </summary>
internal sealed class PortBucket<TOwner>
    where TOwner : notnull
{
    private Dictionary<string, SegmentTrie<TOwner>>? _exact;
    private Dictionary<string, SegmentTrie<TOwner>>.AlternateLookup<ReadOnlySpan<char>> _exactBySpan;

    public SegmentTrie<TOwner>? Strong { get; private set; }

    public SegmentTrie<TOwner>? Weak { get; private set; }

    public bool IsEmpty => Strong is null && Weak is null && (_exact is null || _exact.Count == 0);

    public SegmentTrie<TOwner>? Find(BaseAddress address) => address.Mode switch
    {
        HostNameComparisonMode.StrongWildcard => Strong,
        HostNameComparisonMode.WeakWildcard => Weak,
        _ => _exact is not null && _exact.TryGetValue(address.Host, out SegmentTrie<TOwner>? trie) ? trie : null,
    };

    public SegmentTrie<TOwner>? FindExact(ReadOnlySpan<char> host) =>
        _exact is not null && _exactBySpan.TryGetValue(host, out SegmentTrie<TOwner>? trie) ? trie : null;

    public SegmentTrie<TOwner> GetOrCreate(BaseAddress address)
    {
        switch (address.Mode)
        {
            case HostNameComparisonMode.StrongWildcard:
                return Strong ??= new SegmentTrie<TOwner>();
            case HostNameComparisonMode.WeakWildcard:
                return Weak ??= new SegmentTrie<TOwner>();
            default:
                if (_exact is null)
                {
                    _exact = new Dictionary<string, SegmentTrie<TOwner>>(StringComparer.OrdinalIgnoreCase);
                    _exactBySpan = _exact.GetAlternateLookup<ReadOnlySpan<char>>();
                }

                if (!_exact.TryGetValue(address.Host, out SegmentTrie<TOwner>? trie))
                {
                    trie = new SegmentTrie<TOwner>();
                    _exact.Add(address.Host, trie);
                }

                return trie;
        }
    }

    /// <summary>Drops the trie for this address's mode and host once it holds nothing.</summary>
    public void RemoveIfEmpty(BaseAddress address)
    {
        switch (address.Mode)
        {
            case HostNameComparisonMode.StrongWildcard when Strong?.IsEmpty == true:
                Strong = null;
                break;
            case HostNameComparisonMode.WeakWildcard when Weak?.IsEmpty == true:
                Weak = null;
                break;
            case HostNameComparisonMode.Exact when Find(address)?.IsEmpty == true:
                _exact!.Remove(address.Host);
                break;
        }
    }
}
