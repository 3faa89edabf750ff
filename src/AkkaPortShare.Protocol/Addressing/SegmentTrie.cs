namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// Path segments → registration, for one (mode, host, port). A lookup walks the via's segments once and
/// remembers the deepest node holding a registration, which is the longest registered prefix by whole segments.
/// Children are keyed case-insensitively and looked up by span, so a lookup allocates nothing.
/// </summary>
internal sealed class SegmentTrie<TOwner>
    where TOwner : notnull
{
    private readonly Node _root = new();

    public bool IsEmpty => _root.IsEmpty;

    /// <summary>The node for exactly these segments, created (with its parents) when missing.</summary>
    public Node GetOrCreate(IReadOnlyList<string> segments)
    {
        Node node = _root;
        for (int i = 0; i < segments.Count; i++)
        {
            node = node.GetOrAddChild(segments[i]);
        }

        return node;
    }

    /// <summary>The node for exactly these segments, or null.</summary>
    public Node? Find(IReadOnlyList<string> segments)
    {
        Node? node = _root;
        for (int i = 0; i < segments.Count && node is not null; i++)
        {
            node = node.GetChild(segments[i]);
        }

        return node;
    }

    /// <summary>The registration with the longest prefix of <paramref name="canonicalPath"/>, or null.</summary>
    public Registration<TOwner>? FindLongestPrefix(ReadOnlySpan<char> canonicalPath)
    {
        Node? node = _root;
        Registration<TOwner>? best = node.Registration;
        foreach (ReadOnlySpan<char> segment in new SegmentEnumerator(canonicalPath))
        {
            node = node.GetChild(segment);
            if (node is null)
            {
                break;
            }

            best = node.Registration ?? best;
        }

        return best;
    }

    /// <summary>Clears the registration at these segments and prunes nodes left without purpose.</summary>
    public void Clear(IReadOnlyList<string> segments) => Clear(_root, segments, 0);

    private static void Clear(Node node, IReadOnlyList<string> segments, int depth)
    {
        if (depth == segments.Count)
        {
            node.Registration = null;
            return;
        }

        Node? child = node.GetChild(segments[depth]);
        if (child is null)
        {
            return;
        }

        Clear(child, segments, depth + 1);
        if (child.IsEmpty)
        {
            node.RemoveChild(segments[depth]);
        }
    }

    internal sealed class Node
    {
        private Dictionary<string, Node>? _children;
        private Dictionary<string, Node>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

        public Registration<TOwner>? Registration { get; set; }

        public bool IsEmpty => Registration is null && (_children is null || _children.Count == 0);

        public Node? GetChild(string segment) =>
            _children is not null && _children.TryGetValue(segment, out Node? child) ? child : null;

        public Node? GetChild(ReadOnlySpan<char> segment) =>
            _children is not null && _bySpan.TryGetValue(segment, out Node? child) ? child : null;

        public Node GetOrAddChild(string segment)
        {
            if (_children is null)
            {
                _children = new Dictionary<string, Node>(StringComparer.OrdinalIgnoreCase);
                _bySpan = _children.GetAlternateLookup<ReadOnlySpan<char>>();
            }

            if (!_children.TryGetValue(segment, out Node? child))
            {
                child = new Node();
                _children.Add(segment, child);
            }

            return child;
        }

        public void RemoveChild(string segment) => _children?.Remove(segment);
    }
}
