using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Akka.Hosting.Logging;
using Microsoft.Extensions.Logging;
using MsLogLevel = Microsoft.Extensions.Logging.LogLevel;
using AkkaLogLevel = Akka.Event.LogLevel;

namespace AkkaPortShare.Contracts.Hosting;

/// <summary>
/// Akka's logger, writing to Microsoft.Extensions.Logging with the class that logged as the category
/// (<c>AkkaPortShare.Router.Listening.ListenerActor</c>, <c>Akka.Remote.EndpointWriter</c>), so levels can be set per
/// class and every line has one format: "[actor path] message". Akka.Hosting's own logger prints Akka's whole
/// formatted line (level, time, thread) inside the console formatter's line, twice over.
/// </summary>
internal sealed class MicrosoftLoggingLogger : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ILoggerFactory _factory;
    private readonly Dictionary<Type, ILogger> _loggers = []; // one per logging class: bounded by the code base

    public MicrosoftLoggingLogger()
    {
        var setup = Context.System.Settings.Setup.Get<LoggerFactorySetup>();
        _factory = setup.HasValue ? setup.Value.LoggerFactory : throw new InvalidOperationException(
            "No ILoggerFactory: start the actor system through Akka.Hosting (AddAkka).");
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent log:
                Write(log);
                return true;
            default:
                return false;
        }
    }

    private void Write(LogEvent log)
    {
        // Akka's own string sources (remoting, CoordinatedShutdown) log under a placeholder class: call them "Akka".
        var type = log.LogClass is null || log.LogClass == typeof(DummyClassForStringSources) ? typeof(ActorSystem) : log.LogClass;
        if (!_loggers.TryGetValue(type, out var logger))
            _loggers[type] = logger = _factory.CreateLogger(type == typeof(ActorSystem) ? "Akka" : type.FullName ?? type.Name);
        var level = log.LogLevel() switch
        {
            AkkaLogLevel.DebugLevel => MsLogLevel.Debug,
            AkkaLogLevel.InfoLevel => MsLogLevel.Information,
            AkkaLogLevel.WarningLevel => MsLogLevel.Warning,
            _ => MsLogLevel.Error,
        };
        if (!logger.IsEnabled(level)) return;
        logger.Log(level, default, new LogLine(log.LogSource, log.Message?.ToString() ?? ""), log.Cause,
            static (line, _) => line.ToString());
    }

    /// <summary>What structured sinks (the JSON console, OpenTelemetry) see: the message and the actor that logged.</summary>
    private sealed class LogLine(string source, string message) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("Message", message),
            1 => new("ActorPath", source),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public int Count => 2;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
            yield return this[1];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"[{source}] {message}";
    }
}
