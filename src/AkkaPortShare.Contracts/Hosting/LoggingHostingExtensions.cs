using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using AkkaLogLevel = Akka.Event.LogLevel;

namespace AkkaPortShare.Contracts.Hosting;

public static class LoggingHostingExtensions
{
    /// <summary>
    /// One log pipeline: Akka's log events go to Microsoft.Extensions.Logging (the category is the class that logged),
    /// so one level setting (<c>Logging:LogLevel</c>, e.g. the environment variable
    /// <c>Logging__LogLevel__Default=Debug</c>) and one console format (<c>Logging__Console__FormatterName=json</c>)
    /// apply to every line. Akka's own level is derived from that setting, so actors do not build debug events
    /// that would only be dropped.
    /// </summary>
    public static AkkaConfigurationBuilder WithMicrosoftLogging(this AkkaConfigurationBuilder builder, IServiceProvider services)
    {
        // Akka's level: the most verbose one configured for Akka's or this project's classes.
        var factory = services.GetRequiredService<ILoggerFactory>();
        var loggers = new[] { factory.CreateLogger("Akka"), factory.CreateLogger("AkkaPortShare") };
        bool Enabled(LogLevel level) => loggers.Any(l => l.IsEnabled(level));
        var akkaLevel = Enabled(LogLevel.Debug) ? AkkaLogLevel.DebugLevel
            : Enabled(LogLevel.Information) ? AkkaLogLevel.InfoLevel
            : Enabled(LogLevel.Warning) ? AkkaLogLevel.WarningLevel
            : AkkaLogLevel.ErrorLevel;
        return builder.ConfigureLoggers(setup =>
        {
            setup.LogLevel = akkaLevel;
            setup.ClearLoggers();
            setup.AddLogger<MicrosoftLoggingLogger>();
        });
    }
}
