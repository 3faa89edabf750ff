namespace AkkaPortShare.Protocol.Tests.Framing;

/// <summary>
/// Ways of cutting a byte stream into consecutive reads. Each split is the list of chunk END offsets
/// (ascending, last = length); empty chunks are allowed to check that empty input is harmless.
/// </summary>
internal static class Splits
{
    public static int[] Whole(int length) => [length];

    public static int[] ByteByByte(int length) => Enumerable.Range(1, length).ToArray();

    public static int[] At(int cut, int length) => [cut, length];

    /// <summary>Whole, byte by byte, and every two-part split (including empty first/second part).</summary>
    public static IEnumerable<(string Name, int[] Ends)> All(int length)
    {
        yield return ("whole", Whole(length));
        yield return ("byte-by-byte", ByteByByte(length));
        for (int cut = 0; cut <= length; cut++)
        {
            yield return ($"split@{cut}", At(cut, length));
        }
    }
}
