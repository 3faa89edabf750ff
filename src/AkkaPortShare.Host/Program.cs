using Akka.Hosting;
using AkkaPortShare.Router.Hosting;
using Microsoft.Extensions.Hosting;

// The router process: `akkaportshare [--config FILE]`. Without --config it reads ./hocon.conf when present.
var configFile = ConfigFile.Resolve(args);
if (configFile is { Exists: false })
{
    Console.Error.WriteLine($"Configuration file not found: {configFile.FullName}");
    return 2;
}

var builder = Host.CreateApplicationBuilder();
builder.Services.AddAkka("akkaportshare", akka =>
{
    akka.WithPortShareRouter();
    // The operator's file goes last so it overrides everything before it (reference.conf stays the fallback).
    if (configFile is not null) akka.AddHoconFile(configFile.FullName, HoconAddMode.Prepend);
});
await builder.Build().RunAsync();
// 70 when a core actor stopped (CoreActorWatchdog), so that a service manager restarts the router.
return Environment.ExitCode;

internal static class ConfigFile
{
    public static FileInfo? Resolve(string[] args)
    {
        var at = Array.IndexOf(args, "--config");
        if (at >= 0 && at + 1 < args.Length) return new FileInfo(args[at + 1]);
        return File.Exists("hocon.conf") ? new FileInfo("hocon.conf") : null;
    }
}
