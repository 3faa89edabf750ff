using System.Buffers;
using System.Text;

namespace AkkaPortShare.Protocol.Addressing;

/// <summary>
/// Turns a URI path into key segments. The Windows service keys on <c>Uri.AbsolutePath</c>, i.e. the escaped
/// path after System.Uri's canonicalisation; this class reproduces the parts of it that matter for routing,
/// so that a registration written by hand and a via produced by <c>Uri.AbsoluteUri</c> meet on one spelling:
/// <list type="bullet">
/// <item>'\' and escaped '/' or '\' (%2F, %5C) separate segments, like System.Uri does for net.tcp;</item>
/// <item>escaped unreserved characters (%41 → A, %2E → .) are unescaped;</item>
/// <item>characters a path may not hold raw (space, non-ASCII, '"', '{', …) are escaped as UTF-8;
/// a '%' that starts no escape becomes %25;</item>
/// <item>"." and ".." segments are resolved (".." never climbs above the root);</item>
/// <item>empty segments are dropped (the Windows table ignores repeated and trailing slashes).</item>
/// </list>
/// Hex digits in escapes are written upper-case; the table compares case-insensitively anyway.
/// </summary>
internal static class PathSyntax
{
    // What System.Uri leaves unescaped in a path: unreserved, sub-delims, ':', '@', '[', ']' and the separator.
    private static readonly SearchValues<char> RawPathChars = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@[]/");

    /// <summary>
    /// True when the segments of <paramref name="path"/> can be used as they are. This is the case for every via
    /// a WCF client sends (Uri.AbsoluteUri is canonical already), so routing normally copies nothing.
    /// </summary>
    public static bool IsCanonical(ReadOnlySpan<char> path)
    {
        if (path.IndexOfAnyExcept(RawPathChars) >= 0)
        {
            return false;
        }

        foreach (ReadOnlySpan<char> segment in new SegmentEnumerator(path))
        {
            if (segment is "." or "..")
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The canonical segments of any path.</summary>
    public static List<string> ToSegments(ReadOnlySpan<char> path)
    {
        var segments = new List<string>();
        foreach (ReadOnlySpan<char> segment in new SegmentEnumerator(Escape(path)))
        {
            if (segment is ".")
            {
                continue;
            }

            if (segment is "..")
            {
                if (segments.Count > 0)
                {
                    segments.RemoveAt(segments.Count - 1);
                }

                continue;
            }

            segments.Add(segment.ToString());
        }

        return segments;
    }

    /// <summary>The canonical segments joined by '/', for routing a via whose path is not canonical.</summary>
    public static string Canonicalize(ReadOnlySpan<char> path) => string.Join('/', ToSegments(path));

    // Applies the character rules; dot segments and empty segments are left to the caller.
    private static string Escape(ReadOnlySpan<char> path)
    {
        var builder = new StringBuilder(path.Length + 8);
        for (int i = 0; i < path.Length; i++)
        {
            char c = path[i];
            if (c == '\\')
            {
                builder.Append('/');
            }
            else if (c == '%')
            {
                if (i + 2 < path.Length && char.IsAsciiHexDigit(path[i + 1]) && char.IsAsciiHexDigit(path[i + 2]))
                {
                    AppendEscape(builder, (byte)((HexValue(path[i + 1]) << 4) | HexValue(path[i + 2])));
                    i += 2;
                }
                else
                {
                    builder.Append("%25");
                }
            }
            else if (RawPathChars.Contains(c))
            {
                builder.Append(c);
            }
            else
            {
                i += AppendUtf8Escaped(builder, path[i..]) - 1;
            }
        }

        return builder.ToString();
    }

    private static void AppendEscape(StringBuilder builder, byte value)
    {
        char c = (char)value;
        if (c is '/' or '\\')
        {
            builder.Append('/');
        }
        else if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~')
        {
            builder.Append(c);
        }
        else
        {
            AppendPercent(builder, value);
        }
    }

    // Escapes one code point (a surrogate pair counts as one); returns how many chars it consumed.
    private static int AppendUtf8Escaped(StringBuilder builder, ReadOnlySpan<char> text)
    {
        if (Rune.DecodeFromUtf16(text, out Rune rune, out int consumed) != OperationStatus.Done)
        {
            rune = Rune.ReplacementChar;
            consumed = Math.Max(consumed, 1);
        }

        Span<byte> utf8 = stackalloc byte[4];
        int length = rune.EncodeToUtf8(utf8);
        foreach (byte b in utf8[..length])
        {
            AppendPercent(builder, b);
        }

        return consumed;
    }

    private static void AppendPercent(StringBuilder builder, byte value) =>
        builder.Append('%').Append(HexDigits[value >> 4]).Append(HexDigits[value & 0xF]);

    private const string HexDigits = "0123456789ABCDEF";

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
