using Akka.Hosting;
using AkkaPortShare.Contracts.Hosting;
using AkkaPortShare.Host;
using AkkaPortShare.Contracts.Cluster;
using AkkaPortShare.Router.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Console;

// The router process; see CommandLine.Usage.
var commandLine = CommandLine.Parse(args, File.Exists);
if (commandLine.Status) return await StatusCommand.RunAsync(commandLine);
if (!commandLine.RunsRouter)
{
    (commandLine.ExitCode == 0 ? Console.Out : Console.Error).WriteLine(commandLine.Output);
    return commandLine.ExitCode!.Value;
}

// Configuration, remoting port and shared port, checked before anything starts (see Preflight).
var preflight = Preflight.Run(commandLine.ConfigFile, commandLine.Takeover);
if (preflight.Problem is not null)
{
    Console.Error.WriteLine(preflight.Problem);
    return preflight.ExitCode;
}
using var sharedPort = preflight.Port!;

var builder = Host.CreateApplicationBuilder();
builder.Services.AddSystemd();
builder.Services.AddHealthChecks(); // the router's checks (tags live, ready) show in `akkaportshare status` // Type=notify: systemd hears READY=1 once the router listens; a no-op elsewhere
// One log pipeline and one format: single-line console lines, or JSON with Logging__Console__FormatterName=json.
// (Naming the formatter matters: without a name the console logger rebuilds the simple formatter's options from
// its legacy settings and drops SingleLine.)
builder.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName ??= ConsoleFormatterNames.Simple);
builder.Services.Configure<SimpleConsoleFormatterOptions>(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
builder.Services.AddAkka("akkaportshare", (akka, services) =>
{
    akka.WithMicrosoftLogging(services);
    akka.WithPortShareRouter(router => router.SharedPort = sharedPort);
    // Several routers as one cluster, only when akka-port-share.cluster.enabled (nothing is added otherwise).
    if (preflight.Cluster is { Enabled: true } cluster) akka.WithPortShareCluster(cluster, PortShareClusterSettings.RouterRole);
    // The operator's file goes last so it overrides everything before it (reference.conf stays the fallback).
    if (commandLine.ConfigFile is { } file) akka.AddHoconFile(file.FullName, HoconAddMode.Prepend);
});
await builder.Build().RunAsync();
// 70 when a core actor stopped (CoreActorWatchdog), so that a service manager restarts the router.
return Environment.ExitCode;
