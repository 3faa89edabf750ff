using Akka.Configuration;
using Akka.Hosting;
using AkkaPortShare.Configuration;
using AkkaPortShare.Hosting;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Host;
using AkkaPortShare.Router.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Console;

// The router process; see CommandLine.Usage.
var commandLine = CommandLine.Parse(args, File.Exists);
if (!commandLine.RunsRouter)
{
    (commandLine.ExitCode == 0 ? Console.Out : Console.Error).WriteLine(commandLine.Output);
    return commandLine.ExitCode!.Value;
}

// Check the operator's settings before anything starts: every problem at once, exit 78 (EX_CONFIG).
try
{
    var operatorConfig = commandLine.ConfigFile is { } configFile
        ? ConfigurationFactory.ParseString(File.ReadAllText(configFile.FullName))
        : Config.Empty;
    RouterSettings.Create(operatorConfig);
}
catch (SettingsException e)
{
    Console.Error.WriteLine(e.Message);
    return SettingsException.ExitCode;
}
catch (ConfigurationException e)
{
    Console.Error.WriteLine($"Invalid configuration in {commandLine.ConfigFile?.FullName}: {e.Message}");
    return SettingsException.ExitCode;
}

var builder = Host.CreateApplicationBuilder();
builder.Services.AddSystemd(); // Type=notify: systemd hears READY=1 once the router listens; a no-op elsewhere
// One log pipeline and one format: single-line console lines, or JSON with Logging__Console__FormatterName=json.
// (Naming the formatter matters: without a name the console logger rebuilds the simple formatter's options from
// its legacy settings and drops SingleLine.)
builder.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName ??= ConsoleFormatterNames.Simple);
builder.Services.Configure<SimpleConsoleFormatterOptions>(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
builder.Services.AddAkka("akkaportshare", (akka, services) =>
{
    akka.WithMicrosoftLogging(services);
    akka.WithPortShareRouter();
    // The operator's file goes last so it overrides everything before it (reference.conf stays the fallback).
    if (commandLine.ConfigFile is { } file) akka.AddHoconFile(file.FullName, HoconAddMode.Prepend);
});
await builder.Build().RunAsync();
// 70 when a core actor stopped (CoreActorWatchdog), so that a service manager restarts the router.
return Environment.ExitCode;
