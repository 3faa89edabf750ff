using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Samples.Echo;
using AkkaPortShare.ServiceModel.Hosting;
using AkkaPortShare.Worker.Hosting;
using AkkaPortShare.Contracts.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Console;

// echo-worker [--address net.tcp://+:8808/echo/]...       raw framing echo (the default when no address is given)
//             [--wcf-address net.tcp://+:8808/wcf/echo/]...  the IEchoService WCF contract
//             [--wcf-reliable ADDRESS HOCON-PATH]...       IEchoService with this endpoint's own reliable-session block
//             [--duplex-address ADDRESS]...               the IEchoDuplexService WCF contract (callbacks)
//             [--stream-address ADDRESS]...               the IStreamService WCF contract (TransferMode.Streamed)
//             [--calculator-address ADDRESS]...           CalculatorService, a plain WCF service class (ICalculator)
//             [--review-address ADDRESS]...               ReviewService, a plain WCF duplex service class (IReviewService)
//             [--router akka.tcp://akkaportshare@127.0.0.1:8809] [--identity NAME] [--config FILE]
var addresses = Values(args, "--address");
var wcfAddresses = Values(args, "--wcf-address");
var duplexAddresses = Values(args, "--duplex-address");
var streamAddresses = Values(args, "--stream-address");
var calculatorAddresses = Values(args, "--calculator-address");
var reviewAddresses = Values(args, "--review-address");
var reliableEndpoints = Pairs(args, "--wcf-reliable");
if (addresses.Count + wcfAddresses.Count + reliableEndpoints.Count + duplexAddresses.Count + streamAddresses.Count
    + calculatorAddresses.Count + reviewAddresses.Count == 0) addresses.Add("net.tcp://+:8808/echo/");
var router = Values(args, "--router").LastOrDefault();
var config = Values(args, "--config").LastOrDefault();
var identity = Values(args, "--identity").LastOrDefault() ?? $"echo-worker pid {Environment.ProcessId}";

var builder = Host.CreateApplicationBuilder();
// One log pipeline (see the router's Program.cs): single-line console, JSON with Logging__Console__FormatterName=json.
builder.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName ??= ConsoleFormatterNames.Simple);
builder.Services.Configure<SimpleConsoleFormatterOptions>(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
builder.Services.AddAkka("akkaportshare-worker", (akka, services) =>
{
    akka.WithMicrosoftLogging(services);
    akka.WithPortShareWorker(worker =>
    {
        worker.Router = router;
        foreach (var address in addresses) worker.Serve(address, Props.Create(() => new EchoService(identity)));
        foreach (var address in wcfAddresses) worker.ServeContract<IEchoService>(address, Props.Create(() => new WcfEchoService(identity)));
        foreach (var (address, path) in reliableEndpoints)
            worker.ServeContract<IEchoService>(address, Props.Create(() => new WcfEchoService(identity)), reliableSessionPath: path);
        foreach (var address in duplexAddresses)
            worker.ServeContract<IEchoDuplexService>(address, Props.Create<WcfEchoDuplexService>());
        foreach (var address in streamAddresses) worker.ServeContract<IStreamService>(address, Props.Create<WcfStreamService>());
        foreach (var address in calculatorAddresses) worker.ServeService<CalculatorService>(address);
        foreach (var address in reviewAddresses) worker.ServeService<ReviewService>(address);
    });
    if (config is not null) akka.AddHoconFile(config, HoconAddMode.Prepend);
});
await builder.Build().RunAsync();
// Non-zero when the worker could not do its job (WorkerExit: 78 configuration, 69 router unreachable, 76 refused).
return Environment.ExitCode;

static List<string> Values(string[] args, string name) =>
    args.Select((a, i) => (a, i)).Where(p => p.a == name && p.i + 1 < args.Length).Select(p => args[p.i + 1]).ToList();

// An option with two values (--wcf-reliable ADDRESS HOCON-PATH).
static List<(string, string)> Pairs(string[] args, string name) =>
    args.Select((a, i) => (a, i)).Where(p => p.a == name && p.i + 2 < args.Length).Select(p => (args[p.i + 1], args[p.i + 2])).ToList();
