using System.Globalization;
using System.Net;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace AkkaPortShare.Contracts.Configuration;

/// <summary>
/// Reads one settings block (e.g. <c>akka-port-share.router</c>) and collects every problem instead of stopping
/// at the first: a key the embedded reference.conf does not know (with the nearest known key), and a value that
/// does not parse or is out of range (with the key, the value and what is expected). <see cref="ThrowIfInvalid"/>
/// then reports them all at once, so an operator fixes a file in one round, and a process can exit with
/// EX_CONFIG (78) naming each one.
/// </summary>
/// <remarks>
/// Getters return a placeholder after a problem so reading can go on; nothing read from a reader with problems
/// may be used, which <see cref="ThrowIfInvalid"/> guarantees when called before the settings record is built.
/// </remarks>
public sealed class SettingsReader
{
    private readonly Config _block;
    private readonly Config _own;
    private readonly string? _overrides;
    private readonly Config _reference;
    private readonly List<string> _problems = [];

    /// <param name="root">The whole configuration as the process sees it (the operator's file, C# options).</param>
    /// <param name="reference">
    /// The embedded reference.conf of the module that owns the block (the full file, not the block). Each block has
    /// one owner, so its known keys are exactly that file's.
    /// </param>
    /// <param name="path">The block, e.g. <c>akka-port-share.router</c>.</param>
    /// <param name="overrides">
    /// For an operator's block that overrides a module's (a WCF endpoint's own reliable-session block overrides
    /// <c>akka-port-share.reliable-session</c>): the overridden block's path. Its reference keys are the known keys,
    /// and a key <paramref name="path"/> does not set is read from it. Null: <paramref name="path"/> is a module's own block.
    /// </param>
    public SettingsReader(Config root, Config reference, string path, string? overrides = null)
    {
        Path = path;
        _overrides = overrides;
        var referencePath = overrides ?? path;
        _reference = reference.GetConfig(referencePath) ?? throw new ArgumentException($"reference.conf has no {referencePath} block", nameof(reference));
        var merged = root.WithFallback(reference);
        _own = root.GetConfig(path) ?? Config.Empty;
        _block = overrides is null ? merged.GetConfig(path) : _own.WithFallback(merged.GetConfig(overrides));
    }

    /// <summary>The parent of every module's block.</summary>
    public const string Root = "akka-port-share";

    /// <summary>The blocks AkkaPortShare's modules own under <see cref="Root"/> (a process may run any of them).</summary>
    internal static readonly IReadOnlyList<string> ModuleBlocks = ["router", "worker", "service-model", "reliable-session", "cluster"];

    public string Path { get; }

    /// <summary>
    /// Names under <see cref="Root"/> that are no module's block (a typo such as <c>akka-port-share.workers</c>
    /// would otherwise be ignored whole), each with the nearest known name. A process that keeps blocks of its own
    /// there (a WCF endpoint's reliable-session block) passes their names in <paramref name="alsoKnown"/>.
    /// </summary>
    internal static IReadOnlyList<string> UnknownBlocks(Config root, IEnumerable<string> alsoKnown)
    {
        if (!root.HasPath(Root)) return [];
        var known = ModuleBlocks.Concat(alsoKnown).ToHashSet(StringComparer.Ordinal);
        return root.GetConfig(Root).AsEnumerable().Select(kv => kv.Key).Distinct()
            .Where(name => !known.Contains(name)).Order(StringComparer.Ordinal)
            .Select(name => Nearest(name, known) is { } nearest
                ? $"{Root}.{name} is not a block of AkkaPortShare; did you mean {Root}.{nearest}?"
                : $"{Root}.{name} is not a block of AkkaPortShare; expected {string.Join(", ", ModuleBlocks)}")
            .ToList();
    }

    public IReadOnlyList<string> Problems => _problems;

    public int Int(string key, int min = int.MinValue, int max = int.MaxValue) =>
        Read(key, $"a whole number from {min} to {max}", v => v.GetInt(), n => n >= min && n <= max);

    public long Long(string key, long min = long.MinValue, long max = long.MaxValue) =>
        Read(key, $"a whole number from {min} to {max}", v => v.GetLong(), n => n >= min && n <= max);

    public int NonNegativeInt(string key) => Int(key, 0);

    public int PositiveInt(string key) => Int(key, 1);

    /// <summary>A duration such as <c>30s</c>, <c>250ms</c> or <c>2m</c>; zero is refused unless allowed.</summary>
    public TimeSpan Duration(string key, bool allowZero = false) =>
        Read(key, allowZero ? "a duration of zero or more, e.g. 30s or 250ms" : "a positive duration, e.g. 30s or 250ms",
            v => v.GetTimeSpan(allowInfinite: false), t => allowZero ? t >= TimeSpan.Zero : t > TimeSpan.Zero);

    /// <summary>A size in bytes such as <c>64k</c> or <c>65536b</c>, read as an int.</summary>
    public int Bytes(string key, int min = 0, int max = int.MaxValue) =>
        Read(key, $"a size in bytes from {min} to {max}, e.g. 64k or 65536b",
            v => (int)Math.Min(v.GetByteSize() ?? throw new FormatException("empty"), int.MaxValue + 1L),
            n => n >= min && n <= max);

    public bool Bool(string key) => Read(key, "on or off (true or false)", v => ParseBool(v.GetString()), _ => true);

    /// <summary>A positive duration, or a switch: <c>on</c> is <paramref name="whenOn"/>, <c>off</c> is zero.</summary>
    public TimeSpan DurationOrSwitch(string key, TimeSpan whenOn) =>
        Read(key, "on, off or a positive duration, e.g. 15s",
            v => ParseSwitch(v.GetString()) switch
            {
                true => whenOn,
                false => TimeSpan.Zero,
                null => v.GetTimeSpan(allowInfinite: false) is var t && t > TimeSpan.Zero ? t : throw new FormatException(),
            }, _ => true);

    public string String(string key) => Read(key, "a string", v => v.GetString() ?? "", _ => true);

    public IReadOnlyList<string> StringList(string key) =>
        Read<IReadOnlyList<string>>(key, "a list of strings, e.g. [ \"a\", \"b\" ]", v => v.GetStringList().ToList(), _ => true) ?? [];

    public TEnum Enum<TEnum>(string key) where TEnum : struct, System.Enum =>
        Read(key, $"one of {string.Join(", ", System.Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()))}",
            v => System.Enum.Parse<TEnum>(v.GetString(), ignoreCase: true), _ => true);

    /// <summary>One of a few words, e.g. <c>any</c>, <c>wsrm-feb2005</c> or <c>wsrm11</c>.</summary>
    public string OneOf(string key, params string[] allowed) =>
        Read(key, $"one of {string.Join(", ", allowed)}", v => v.GetString(), allowed.Contains) ?? allowed[0];

    public IPAddress IPAddress(string key) =>
        Read(key, "an IP address, e.g. \"::\", \"0.0.0.0\" or \"127.0.0.1\"", v => System.Net.IPAddress.Parse(v.GetString()), _ => true)
        ?? System.Net.IPAddress.None;

    /// <summary>Records a problem found by a check across keys (e.g. one bound below another).</summary>
    public void Problem(string key, string message) => _problems.Add($"{Path}.{key}: {message}");

    /// <summary>Throws <see cref="SettingsException"/> listing every problem, unknown keys included.</summary>
    public void ThrowIfInvalid()
    {
        _problems.AddRange(UnknownKeys());
        if (_problems.Count > 0) throw new SettingsException(Path, _problems);
    }

    /// <summary>
    /// The block's keys that its owner's reference.conf does not have, each with the nearest known key. Only the
    /// block's own keys: what an overridden block sets is checked where that block is read.
    /// </summary>
    public IReadOnlyList<string> UnknownKeys()
    {
        var known = LeafPaths(_reference).ToHashSet(StringComparer.Ordinal);
        return LeafPaths(_own).Where(k => !known.Contains(k)).Distinct().Order(StringComparer.Ordinal)
            .Select(key => Nearest(key, known) is { } nearest
                ? $"{Path}.{key} is not a setting; did you mean {nearest}?"
                : $"{Path}.{key} is not a setting")
            .ToList();
    }

    private T Read<T>(string key, string expected, Func<HoconValue, T> parse, Func<T, bool> valid)
    {
        var value = _block.GetValue(key);
        // A value the block inherits is named where it is set, so the overridden block's reader names it alike.
        var path = _overrides is not null && !_own.HasPath(key) ? _overrides : Path;
        if (value is null || value.IsEmpty && typeof(T) != typeof(string))
        {
            _problems.Add($"{path}.{key} has no value; expected {expected}");
            return default!;
        }
        try
        {
            var parsed = parse(value);
            if (valid(parsed)) return parsed;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or InvalidOperationException
                                      or ConfigurationException or NullReferenceException)
        {
            // fall through: reported below with the value as written
        }
        _problems.Add($"{path}.{key} = {Quote(value)}: expected {expected}");
        return default!;
    }

    private static string Quote(HoconValue value)
    {
        var text = value.IsObject() ? "{ … }" : value.ToString();
        return text.Length > 80 ? text[..80] + "…" : text;
    }

    private static bool ParseBool(string text) => ParseSwitch(text) ?? throw new FormatException(text);

    /// <summary>on/true/yes or off/false/no; null for anything else.</summary>
    private static bool? ParseSwitch(string text) => text.ToLowerInvariant() switch
    {
        "on" or "true" or "yes" => true,
        "off" or "false" or "no" => false,
        _ => null,
    };

    // Every key with a value below the block, dotted ("data-endpoint.port"), across the fallback chain.
    private static IEnumerable<string> LeafPaths(Config config)
    {
        for (var current = config; current is not null; current = current.Fallback)
            foreach (var path in LeafPaths(current.Root, ""))
                yield return path;
    }

    private static IEnumerable<string> LeafPaths(HoconValue? value, string prefix)
    {
        if (value is null || !value.IsObject())
        {
            if (prefix.Length > 0) yield return prefix;
            yield break;
        }
        var items = value.GetObject().Items;
        if (items.Count == 0 && prefix.Length > 0) yield return prefix; // an empty block is still a key
        foreach (var (key, child) in items)
            foreach (var path in LeafPaths(child, prefix.Length == 0 ? key : $"{prefix}.{key}"))
                yield return path;
    }

    // The known key closest in edit distance, when it is close enough to be the one meant.
    private static string? Nearest(string key, IEnumerable<string> known)
    {
        var best = known.Select(k => (Key: k, Distance: EditDistance(key, k))).MinBy(p => p.Distance);
        return best.Key is not null && best.Distance <= Math.Max(2, key.Length / 3) ? best.Key : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}

/// <summary>The configuration is wrong; <see cref="Problems"/> names every problem (exit code 78, EX_CONFIG).</summary>
public sealed class SettingsException(string path, IReadOnlyList<string> problems)
    : ConfigurationException($"Invalid configuration ({problems.Count} problem{(problems.Count == 1 ? "" : "s")} in {path}):\n  " +
                             string.Join("\n  ", problems))
{
    public const int ExitCode = 78;

    public IReadOnlyList<string> Problems { get; } = problems;
}
