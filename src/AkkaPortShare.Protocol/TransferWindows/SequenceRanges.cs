namespace AkkaPortShare.Protocol.TransferWindows;

/// <summary>
/// The message numbers received so far, kept as merged ascending ranges: exactly what an acknowledgement carries, so
/// the ack can be written straight from <see cref="Ranges"/> without rebuilding it per message.
/// </summary>
/// <remarks>
/// Numbers almost always arrive at or just past the top, so <see cref="Add"/> checks the last range before falling
/// back to a binary search; a gap filled in the middle costs one list removal at worst.
/// </remarks>
public sealed class SequenceRanges
{
    private readonly List<SequenceRange> _ranges = [];

    /// <summary>Ascending, disjoint, and never two ranges that touch (n and n+1 are always in one range).</summary>
    public IReadOnlyList<SequenceRange> Ranges => _ranges;

    /// <summary>How many numbers are present in total.</summary>
    public long Count { get; private set; }

    /// <summary>The highest number present, 0 when empty.</summary>
    public long Highest => _ranges.Count == 0 ? 0 : _ranges[^1].Upper;

    /// <summary>Records <paramref name="number"/>; false when it was already present.</summary>
    public bool Add(long number)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);

        int count = _ranges.Count;
        if (count == 0)
        {
            _ranges.Add(new SequenceRange(number, number));
            Count = 1;
            return true;
        }

        // Fast path for in-order arrival: extend or follow the top range.
        SequenceRange top = _ranges[count - 1];
        if (number > top.Upper)
        {
            if (number == top.Upper + 1)
            {
                _ranges[count - 1] = top with { Upper = number };
            }
            else
            {
                _ranges.Add(new SequenceRange(number, number));
            }

            Count++;
            return true;
        }

        int index = FindFirstUpperAtLeast(number);

        // number <= top.Upper, so index < count: _ranges[index] is the first range not entirely below number.
        SequenceRange next = _ranges[index];
        if (number >= next.Lower)
        {
            return false;
        }

        bool joinsPrevious = index > 0 && _ranges[index - 1].Upper + 1 == number;
        bool joinsNext = next.Lower - 1 == number;
        if (joinsPrevious && joinsNext)
        {
            // The number was the only gap between two ranges: they become one.
            _ranges[index - 1] = _ranges[index - 1] with { Upper = next.Upper };
            _ranges.RemoveAt(index);
        }
        else if (joinsPrevious)
        {
            _ranges[index - 1] = _ranges[index - 1] with { Upper = number };
        }
        else if (joinsNext)
        {
            _ranges[index] = next with { Lower = number };
        }
        else
        {
            _ranges.Insert(index, new SequenceRange(number, number));
        }

        Count++;
        return true;
    }

    public bool Contains(long number)
    {
        if (_ranges.Count == 0 || number > _ranges[^1].Upper)
        {
            return false;
        }

        return number >= _ranges[FindFirstUpperAtLeast(number)].Lower;
    }

    /// <summary>True when every number 1..<paramref name="last"/> is present (trivially true for last ≤ 0).</summary>
    public bool ContainsAllThrough(long last) =>
        last <= 0 || (_ranges.Count > 0 && _ranges[0].Lower == 1 && _ranges[0].Upper >= last);

    /// <summary>
    /// True when adding <paramref name="number"/> would open a new range (it is absent and touches no existing range).
    /// Unordered delivery refuses such a number once <see cref="TransferWindowLimits.MaxSequenceRanges"/> ranges exist.
    /// </summary>
    public bool WouldStartNewRange(long number)
    {
        int count = _ranges.Count;
        if (count == 0)
        {
            return true;
        }

        if (number > _ranges[count - 1].Upper)
        {
            return number != _ranges[count - 1].Upper + 1;
        }

        int index = FindFirstUpperAtLeast(number);
        SequenceRange next = _ranges[index];
        if (number >= next.Lower - 1)
        {
            return false; // present, or extends next downwards
        }

        return index == 0 || _ranges[index - 1].Upper + 1 != number;
    }

    /// <summary>Index of the first range whose Upper is ≥ number (== Count when none is).</summary>
    private int FindFirstUpperAtLeast(long number)
    {
        int lo = 0;
        int hi = _ranges.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_ranges[mid].Upper < number)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    public override string ToString() => string.Join(",", _ranges);
}
