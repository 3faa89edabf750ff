using System.Reflection;

namespace AkkaPortShare.Router;

/// <summary>This build's version ("0.3.0", without the commit): what `akkaportshare --version` and `status` print.</summary>
internal static class RouterVersion
{
    public static string Current { get; } =
        typeof(RouterVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "unknown";
}
