using System.Reflection;

namespace AkkaPortShare.Host;

/// <summary>
/// The router's command line: <c>akkaportshare [--config FILE] [--help] [--version]</c>. Parsing is a pure
/// function so every case is testable without starting a router; exit codes follow sysexits.h.
/// </summary>
internal sealed record CommandLine(FileInfo? ConfigFile, string? Output, int? ExitCode)
{
    public const int ExitUsage = 64;

    public const string Usage =
        """
        Usage: akkaportshare [--config FILE]
               akkaportshare --help | --version

        The net.tcp port-sharing router. Settings are read from FILE (HOCON), or from ./hocon.conf when present;
        every setting and its default is documented in the router's reference.conf (see README, Configuration).

          --config FILE   the operator's HOCON file (overrides the defaults)
          --help          print this text and exit
          --version       print the version and exit

        Exit codes: 0 stopped cleanly; 64 bad command line; 70 an internal failure left the router unable to
        route; 78 configuration error; 1 the router could not start (the last log line says why).
        """;

    /// <summary>Run the router with this file (null: built-in defaults only).</summary>
    public bool RunsRouter => ExitCode is null;

    public static CommandLine Parse(IReadOnlyList<string> args, Func<string, bool> fileExists)
    {
        FileInfo? config = null;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--help" or "-h":
                    return new CommandLine(null, Usage, 0);
                case "--version":
                    return new CommandLine(null, $"akkaportshare {Version}", 0);
                case "--config" when i + 1 < args.Count:
                    config = new FileInfo(args[++i]);
                    break;
                case "--config":
                    return new CommandLine(null, $"--config needs a file name.\n\n{Usage}", ExitUsage);
                default:
                    return new CommandLine(null, $"Unknown argument: {args[i]}\n\n{Usage}", ExitUsage);
            }
        }
        if (config is { Exists: false })
            return new CommandLine(null, $"Configuration file not found: {config.FullName} (--config)", ExitUsage);
        config ??= fileExists("hocon.conf") ? new FileInfo("hocon.conf") : null;
        return new CommandLine(config, null, null);
    }

    private static string Version =>
        typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "unknown";
}
