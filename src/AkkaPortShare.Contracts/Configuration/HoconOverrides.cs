using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace AkkaPortShare.Contracts.Configuration;

/// <summary>
/// Settings given in C# for one block (e.g. <c>akka-port-share.router</c>), written as HOCON that means exactly the
/// value given: the one place C# values become HOCON, so no hosting option quotes by hand. Only keys that are set
/// are written (Akka.Hosting's RemoteOptions style); a key set twice keeps the last value. Whether a key exists, and
/// whether its value is in range, is the block's <see cref="SettingsReader"/>'s to say when the actor system starts
/// (exit 78 naming the key), exactly as for the operator's file.
/// </summary>
public sealed class HoconOverrides
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <param name="path">The block, e.g. <c>akka-port-share.router</c>.</param>
    public HoconOverrides(string path)
    {
        CheckPath(path, nameof(path));
        Path = path;
    }

    public string Path { get; }

    /// <summary>Whether <paramref name="key"/> (relative to <see cref="Path"/>) has been set.</summary>
    public bool IsSet(string key) => _values.ContainsKey(key);

    public HoconOverrides Set(string key, int value) => Put(key, value.ToString(CultureInfo.InvariantCulture));

    public HoconOverrides Set(string key, long value) => Put(key, value.ToString(CultureInfo.InvariantCulture));

    public HoconOverrides Set(string key, bool value) => Put(key, value ? "on" : "off");

    /// <summary>A duration: whole milliseconds as <c>250ms</c>, anything finer in nanoseconds (HOCON has no ticks).</summary>
    public HoconOverrides Set(string key, TimeSpan value) => Put(key, value.Ticks % TimeSpan.TicksPerMillisecond == 0
        ? $"{(value.Ticks / TimeSpan.TicksPerMillisecond).ToString(CultureInfo.InvariantCulture)}ms"
        : $"{(value.Ticks * 100).ToString(CultureInfo.InvariantCulture)}ns");

    /// <summary>
    /// A string, always quoted: HOCON's quoted strings use JSON's escapes, so quotes, backslashes, newlines and
    /// <c>${…}</c> are taken literally (unquoted, <c>$</c> would start a substitution and <c>#</c> a comment).
    /// </summary>
    public HoconOverrides Set(string key, string value) => Put(key, Quote(value ?? throw new ArgumentNullException(nameof(value))));

    public HoconOverrides Set(string key, IPAddress value) => Set(key, value.ToString());

    /// <summary>An enum setting, written as the lower-case name every reference.conf uses (<c>handover-mode = relay</c>).</summary>
    public HoconOverrides Set<TEnum>(string key, TEnum value) where TEnum : struct, Enum =>
        Enum.IsDefined(value)
            ? Put(key, Quote(value.ToString().ToLowerInvariant()))
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"{typeof(TEnum).Name} has no such value");

    /// <summary>A list of strings, e.g. allowed users: <c>[ "app", "1001" ]</c> (replaces the default list).</summary>
    public HoconOverrides Set(string key, IEnumerable<string> values) =>
        Put(key, "[" + string.Join(", ", values.Select(Quote)) + "]");

    /// <summary>A size in bytes, written with its unit (<c>65536b</c>) for keys read as sizes (<c>8k</c> in files).</summary>
    public HoconOverrides SetBytes(string key, long bytes) =>
        bytes >= 0
            ? Put(key, bytes.ToString(CultureInfo.InvariantCulture) + "b")
            : throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "a size cannot be negative");

    /// <summary>The HOCON for every key set (empty when none), each on its own line with its full path.</summary>
    public string ToHocon()
    {
        var text = new StringBuilder();
        foreach (var key in _order) text.Append(Path).Append('.').Append(key).Append(" = ").Append(_values[key]).Append('\n');
        return text.ToString();
    }

    public override string ToString() => ToHocon();

    // A HOCON quoted string: JSON's escaping is HOCON's (quotes, backslashes, control characters), and a quoted
    // string is never a substitution, a comment or an include. Non-ASCII stays as it is (UTF-8 reads back alike).
    private static readonly JsonSerializerOptions QuoteOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    internal static string Quote(string value) => JsonSerializer.Serialize(value, QuoteOptions);

    private HoconOverrides Put(string key, string hocon)
    {
        CheckPath(key, nameof(key));
        if (_values.TryAdd(key, hocon)) _order.Add(key);
        else _values[key] = hocon;
        return this;
    }

    // Keys are written unquoted, so they may hold only what every reference.conf key is made of: lower-case words with
    // dashes, dotted for a nested key ("data-endpoint.port"). Anything else could end the line and inject HOCON.
    private static void CheckPath(string path, string parameter)
    {
        if (string.IsNullOrEmpty(path) || path.Split('.').Any(segment =>
                segment.Length == 0 || !segment.All(ch => ch is >= 'a' and <= 'z' or >= '0' and <= '9' or '-')))
            throw new ArgumentException($"\"{path}\" is not a settings key; expected lower-case words with dashes, dotted for a nested key (e.g. data-endpoint.port)", parameter);
    }
}
