namespace AkkaPortShare.Host;

/// <summary>
/// The router's command line (see <see cref="Usage"/>). Parsing is a pure function so every case is testable
/// without starting a router; exit codes follow sysexits.h.
/// </summary>
internal sealed record CommandLine(FileInfo? ConfigFile, string? Output, int? ExitCode)
{
    public const int ExitUsage = 64;

    public const string Usage =
        """
        Usage: akkaportshare [--config FILE] [--takeover]
               akkaportshare status [--config FILE] [--socket PATH] [--json]
               akkaportshare --help | --version

        The net.tcp port-sharing router. Settings are read from FILE (HOCON), or from ./hocon.conf when present;
        every setting and its default is documented in the router's reference.conf (see README, Configuration).

          --config FILE   the operator's HOCON file (overrides the defaults)
          --takeover      take the listening socket from the router running now (through its control socket),
                          which then drains and exits: a restart without systemd that refuses no connection.
                          Without a running router, open the port as usual.
          --help          print this text and exit
          --version       print the version and exit

        status            print the registrations and counters of the router running with these settings
          --socket PATH   its control socket (default: the control-socket setting, else router-<port>.sock in
                          $RUNTIME_DIRECTORY, /run/akkaportshare and the user's temp directory)
          --json          print the router's answer as JSON

        Exit codes: 0 stopped cleanly (status: printed); 64 bad command line; 69 the port, the remoting port or (for
        status) the router is unavailable; 70 an internal failure left the router unable to route; 77 no permission
        for the port; 78 configuration error.
        """;

    /// <summary>What to do: run the router (the default), or ask a running one for its status.</summary>
    public bool Status { get; init; }

    public bool Takeover { get; init; }

    public string? SocketPath { get; init; }

    public bool Json { get; init; }

    /// <summary>Run the router (or the status command) with this file (null: built-in defaults only).</summary>
    public bool RunsRouter => ExitCode is null && !Status;

    public static CommandLine Parse(IReadOnlyList<string> args, Func<string, bool> fileExists)
    {
        FileInfo? config = null;
        var status = args.Count > 0 && args[0] == "status";
        bool takeover = false, json = false;
        string? socket = null;
        for (var i = status ? 1 : 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--help" or "-h":
                    return new CommandLine(null, Usage, 0);
                case "--version":
                    return new CommandLine(null, $"akkaportshare {AkkaPortShare.Router.RouterVersion.Current}", 0);
                case "--config" or "--socket" when i + 1 == args.Count:
                    return Error($"{args[i]} needs a file name.");
                case "--config":
                    config = new FileInfo(args[++i]);
                    break;
                case "--takeover" when !status:
                    takeover = true;
                    break;
                case "--socket" when status:
                    socket = args[++i];
                    break;
                case "--json" when status:
                    json = true;
                    break;
                default:
                    return Error($"Unknown argument: {args[i]}");
            }
        }
        if (config is { Exists: false })
            return new CommandLine(null, $"Configuration file not found: {config.FullName} (--config)", ExitUsage);
        config ??= fileExists("hocon.conf") ? new FileInfo("hocon.conf") : null;
        return new CommandLine(config, null, null) { Status = status, Takeover = takeover, SocketPath = socket, Json = json };
    }

    private static CommandLine Error(string problem) => new(null, $"{problem}\n\n{Usage}", ExitUsage);
}
