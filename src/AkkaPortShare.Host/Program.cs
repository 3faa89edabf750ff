using Akka.Configuration;
using Akka.Hosting;
using AkkaPortShare.Configuration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Host;
using AkkaPortShare.Router.Hosting;
using Microsoft.Extensions.Hosting;

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
builder.Services.AddAkka("akkaportshare", akka =>
{
    akka.WithPortShareRouter();
    // The operator's file goes last so it overrides everything before it (reference.conf stays the fallback).
    if (commandLine.ConfigFile is { } file) akka.AddHoconFile(file.FullName, HoconAddMode.Prepend);
});
await builder.Build().RunAsync();
return Environment.ExitCode;
