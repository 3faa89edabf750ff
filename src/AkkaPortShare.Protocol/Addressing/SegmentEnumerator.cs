namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// Walks the non-empty '/'-separated segments of a path without allocating. Empty segments are skipped
/// because the Windows table ignores leading, repeated and trailing slashes.
/// </summary>
internal ref struct SegmentEnumerator
{
    private ReadOnlySpan<char> _rest;

    public SegmentEnumerator(ReadOnlySpan<char> path)
    {
        _rest = path;
        Current = default;
    }

    public ReadOnlySpan<char> Current { get; private set; }

    public readonly SegmentEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        while (!_rest.IsEmpty)
        {
            int slash = _rest.IndexOf('/');
            ReadOnlySpan<char> segment = slash < 0 ? _rest : _rest[..slash];
            _rest = slash < 0 ? default : _rest[(slash + 1)..];
            if (!segment.IsEmpty)
            {
                Current = segment;
                return true;
            }
        }

        return false;
    }
}
