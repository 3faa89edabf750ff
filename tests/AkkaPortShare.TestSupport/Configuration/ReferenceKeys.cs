using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace AkkaPortShare.TestSupport.Configuration;

/// <summary>The dotted keys with a value under a block of a reference.conf (<c>data-endpoint.port</c>).</summary>
public static class ReferenceKeys
{
    public static IReadOnlyList<string> Of(Config reference, string path) => Leaves(reference.GetConfig(path).Root, "").ToList();

    private static IEnumerable<string> Leaves(HoconValue value, string prefix) =>
        value.IsObject()
            ? value.GetObject().Items.SelectMany(kv => Leaves(kv.Value, prefix.Length == 0 ? kv.Key : $"{prefix}.{kv.Key}"))
            : [prefix];
}
