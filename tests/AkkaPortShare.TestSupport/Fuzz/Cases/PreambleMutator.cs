namespace AkkaPortShare.TestSupport.Fuzz.Cases;

/// <summary>
/// Mutates a generated case the way a byte-level fuzzer does: bit flips, interesting byte values (record types,
/// 0x7F/0x80/0xFF), insertions, deletions, duplicated and spliced ranges, truncation, and oversized multi-byte
/// integers dropped in anywhere. A mutated case has no intended verdict; the oracles judge it.
/// </summary>
public static class PreambleMutator
{
    private static readonly byte[] Interesting = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x7F, 0x80, 0xC0, 0xFE, 0xFF];
    private static readonly byte[][] BigInts = [[0xFF, 0xFF, 0xFF, 0xFF, 0x07], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0x81, 0x10]];

    public static PreambleCase Mutate(PreambleCase source, PreambleCase other, Random random)
    {
        var bytes = source.Bytes.ToList();
        var operations = 1 + random.Next(4);
        var names = new List<string>(operations);
        for (var i = 0; i < operations; i++)
        {
            var at = random.Next(bytes.Count + 1);
            switch (random.Next(9))
            {
                case 0 when bytes.Count > 0:
                    at = Math.Min(at, bytes.Count - 1);
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    names.Add("flip");
                    break;
                case 1 when bytes.Count > 0:
                    bytes[Math.Min(at, bytes.Count - 1)] = Interesting[random.Next(Interesting.Length)];
                    names.Add("set");
                    break;
                case 2:
                    var inserted = new byte[1 + random.Next(16)];
                    random.NextBytes(inserted);
                    bytes.InsertRange(at, inserted);
                    names.Add("insert");
                    break;
                case 3 when bytes.Count > 0:
                    at = Math.Min(at, bytes.Count - 1);
                    bytes.RemoveRange(at, Math.Min(1 + random.Next(16), bytes.Count - at));
                    names.Add("delete");
                    break;
                case 4 when bytes.Count > 0:
                    at = Math.Min(at, bytes.Count - 1);
                    var range = bytes.GetRange(at, Math.Min(1 + random.Next(64), bytes.Count - at));
                    bytes.InsertRange(random.Next(bytes.Count + 1), range);
                    names.Add("duplicate");
                    break;
                case 5:
                    bytes.RemoveRange(at, bytes.Count - at);
                    names.Add("truncate");
                    break;
                case 6 when other.Bytes.Length > 0:
                    var from = random.Next(other.Bytes.Length);
                    bytes.RemoveRange(at, bytes.Count - at);
                    bytes.AddRange(other.Bytes.AsSpan(from, Math.Min(other.Bytes.Length - from, 1 + random.Next(512))).ToArray());
                    names.Add("splice");
                    break;
                case 7:
                    bytes.InsertRange(at, BigInts[random.Next(BigInts.Length)]);
                    names.Add("bigint");
                    break;
                default:
                    var tail = new byte[random.Next(64)];
                    random.NextBytes(tail);
                    bytes.AddRange(tail);
                    names.Add("append");
                    break;
            }
        }
        return new PreambleCase(source.Index, $"mutated {source.Kind} ({string.Join('+', names)})", [.. bytes], null);
    }
}
