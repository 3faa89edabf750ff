using System.Globalization;
using System.ServiceModel.Channels;
using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Samples.Echo;
using AkkaPortShare.ServiceModel.Hosting;
using AkkaPortShare.Worker.Hosting;
using AkkaPortShare.Contracts.Hosting;
using AkkaPortShare.Contracts.Cluster;
using AkkaPortShare.Contracts.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Console;

// echo-worker [--address net.tcp://+:8808/echo/]...       raw framing echo (the default when no address is given)
//             [--wcf-address net.tcp://+:8808/wcf/echo/]...  the IEchoService WCF contract
//             [--wcf-reliable ADDRESS HOCON-PATH]...       IEchoService with this endpoint's own reliable-session block
//             [--duplex-address ADDRESS]...               the IEchoDuplexService WCF contract (callbacks)
//             [--stream-address ADDRESS]...               the IStreamService WCF contract (TransferMode.Streamed)
//             [--calculator-address ADDRESS]...           CalculatorService, a plain WCF service class (ICalculator)
//             [--journal-address ADDRESS]...              JournalService's one-way IJournal at ADDRESS, IJournalReader at ADDRESSreader/
//             [--wcf-endpoint ADDRESS SETTINGS]...        IEchoService with its own binding settings, e.g.
//                                                         receive-timeout=5s,max-received-message-size=100000,text=soap11,
//                                                         max-string-content-length=65536 (the other quotas WCF's),
//                                                         security=transport|certificate|windows (WCF's Security.Mode / ClientCredentialType),
//                                                         protection-level=EncryptAndSign|Sign|None (after security=),
//                                                         transport-security-path=HOCON-PATH (the endpoint's certificate files),
//                                                         transfer-mode=streamed|buffered, reliable=off,
//                                                         inactivity-timeout=3s (ReliableSession.InactivityTimeout)
//             [--shapes-address ADDRESS]...               ShapesService: message contracts, Message, XmlSerializer, known types
//             [--review-address ADDRESS]...               ReviewService, a plain WCF duplex service class (IReviewService)
//             [--tally-address ADDRESS]...                TallyActor, a typed contract actor per session (ITallyService)
//             [--checkout-address ADDRESS]...             CheckoutService (session rules, Reentrant); SingleCheckoutService at ADDRESSsingle/
//             [--review-actor-address ADDRESS]...         ReviewActor, the same contract in the actor style
//             [--basket-address ADDRESS]...               BasketService, a WCF service class moved over unchanged (IBasket)
//             [--basket-actor-address ADDRESS]...         BasketActor, the same contract as a typed actor per session
//             [--instancing-address ADDRESS]...           InstancingService under each [ServiceBehavior]: ADDRESSpercall/, single/,
//                                                         session/ (ConcurrencyMode Single), multiple/ (Multiple), and
//                                                         slow/ (session/ with SendTimeout = 2 s, set in C#)
//             [--router akka.tcp://akkaportshare@127.0.0.1:8809] [--identity NAME] [--config FILE]
var addresses = Values(args, "--address");
var wcfAddresses = Values(args, "--wcf-address");
var duplexAddresses = Values(args, "--duplex-address");
var streamAddresses = Values(args, "--stream-address");
var calculatorAddresses = Values(args, "--calculator-address");
var journalAddresses = Values(args, "--journal-address");
var shapesAddresses = Values(args, "--shapes-address");
var reviewAddresses = Values(args, "--review-address");
var tallyAddresses = Values(args, "--tally-address");
var checkoutAddresses = Values(args, "--checkout-address");
var reviewActorAddresses = Values(args, "--review-actor-address");
var basketAddresses = Values(args, "--basket-address");
var basketActorAddresses = Values(args, "--basket-actor-address");
var instancingAddresses = Values(args, "--instancing-address");
var reliableEndpoints = Pairs(args, "--wcf-reliable");
var bindingEndpoints = Pairs(args, "--wcf-endpoint");
// No endpoint option at all: the echo service at its usual address.
if (!args.Any(a => a.EndsWith("-address", StringComparison.Ordinal) || a is "--wcf-reliable" or "--wcf-endpoint"))
    addresses.Add("net.tcp://+:8808/echo/");
var router = Values(args, "--router").LastOrDefault();
var config = Values(args, "--config").LastOrDefault();
var identity = Values(args, "--identity").LastOrDefault() ?? $"echo-worker pid {Environment.ProcessId}";

// A member of the routers' cluster when its file says akka-port-share.cluster.enabled (read before the actor system
// starts: membership is decided then).
PortShareClusterSettings cluster;
try
{
    cluster = PortShareClusterSettings.Create(config is null ? Akka.Configuration.Config.Empty
        : Akka.Configuration.ConfigurationFactory.ParseString(File.ReadAllText(config)));
}
catch (SettingsException e)
{
    Console.Error.WriteLine(e.Message);
    return SettingsException.ExitCode;
}

var builder = Host.CreateApplicationBuilder();
// One log pipeline (see the router's Program.cs): single-line console, JSON with Logging__Console__FormatterName=json.
builder.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName ??= ConsoleFormatterNames.Simple);
builder.Services.Configure<SimpleConsoleFormatterOptions>(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
// In the routers' cluster a worker's actor system has the routers' name (members of one cluster share it).
builder.Services.AddAkka(cluster.Enabled ? "akkaportshare" : "akkaportshare-worker", (akka, services) =>
{
    akka.WithMicrosoftLogging(services);
    akka.WithPortShareWorker(worker =>
    {
        worker.Router = router;
        foreach (var address in addresses) worker.Serve(address, Props.Create(() => new EchoService(identity)));
        foreach (var address in wcfAddresses) worker.ServeContract<IEchoService>(address, Props.Create(() => new WcfEchoService(identity)));
        foreach (var (address, path) in reliableEndpoints)
            worker.ServeContract<IEchoService>(address, Props.Create(() => new WcfEchoService(identity)), reliableSessionPath: path);
        foreach (var (address, settings) in bindingEndpoints)
            worker.ServeContract<IEchoService>(address, Props.Create(() => new WcfEchoService(identity)), binding: Binding(settings));
        foreach (var address in duplexAddresses)
            worker.ServeContract<IEchoDuplexService>(address, Props.Create<WcfEchoDuplexService>());
        foreach (var address in streamAddresses) worker.ServeContract<IStreamService>(address, Props.Create<WcfStreamService>());
        foreach (var address in calculatorAddresses) worker.ServeService<CalculatorService>(address);
        foreach (var address in journalAddresses)
            worker.ServeService<JournalService, IJournal>(address).ServeService<JournalService, IJournalReader>(address + "reader/");
        foreach (var address in shapesAddresses) worker.ServeService<ShapesService>(address);
        foreach (var address in reviewAddresses) worker.ServeService<ReviewService>(address);
        foreach (var address in tallyAddresses) worker.ServeActor<TallyActor>(address);
        foreach (var address in checkoutAddresses)
            worker.ServeService<CheckoutService>(address).ServeService<SingleCheckoutService>(address + "single/");
        foreach (var address in basketAddresses) worker.ServeService<BasketService>(address);
        foreach (var address in basketActorAddresses) worker.ServeActor<BasketActor>(address);
        foreach (var address in instancingAddresses)
            worker.ServeService<PerCallInstancingService>(address + "percall/")
                .ServeService<SingleInstancingService>(address + "single/")
                .ServeService<SessionInstancingService>(address + "session/")
                .ServeService<MultipleInstancingService>(address + "multiple/")
                .ServeService<SessionInstancingService>(address + "slow/", binding: new NetTcpEndpointOptions { SendTimeout = TimeSpan.FromSeconds(2) });
        foreach (var address in reviewActorAddresses) worker.ServeContract<IReviewService>(address, Props.Create<ReviewActor>());
    });
    akka.WithPortShareCluster(cluster, PortShareClusterSettings.WorkerRole);
    if (config is not null) akka.AddHoconFile(config, HoconAddMode.Prepend);
});
await builder.Build().RunAsync();
// Non-zero when the worker could not do its job (WorkerExit: 78 configuration, 69 router unreachable, 76 refused).
return Environment.ExitCode;

static List<string> Values(string[] args, string name) =>
    args.Select((a, i) => (a, i)).Where(p => p.a == name && p.i + 1 < args.Length).Select(p => args[p.i + 1]).ToList();

// --wcf-endpoint's settings: WCF's binding properties a test varies per endpoint.
static NetTcpEndpointOptions Binding(string settings) => settings.Split(',', StringSplitOptions.RemoveEmptyEntries)
    .Select(s => s.Split('=', 2)).Aggregate(new NetTcpEndpointOptions(), (o, kv) => kv[0] switch
    {
        "receive-timeout" => o with { ReceiveTimeout = TimeSpan.FromSeconds(double.Parse(kv[1].TrimEnd('s'), CultureInfo.InvariantCulture)) },
        "max-received-message-size" => o with { MaxReceivedMessageSize = long.Parse(kv[1], CultureInfo.InvariantCulture) },
        "max-string-content-length" => o with
        {
            ReaderQuotas = new System.Xml.XmlDictionaryReaderQuotas { MaxStringContentLength = int.Parse(kv[1], CultureInfo.InvariantCulture) },
        },
        "text" => o with
        {
            MessageEncoding = EndpointMessageEncoding.Text(kv[1] == "soap11" ? MessageVersion.Soap11WSAddressing10 : MessageVersion.Soap12WSAddressing10),
        },
        "security" => o with { Security = new System.ServiceModel.NetTcpBinding(System.ServiceModel.SecurityMode.Transport)
        {
            Security = { Transport = { ClientCredentialType = kv[1] switch
            {
                "certificate" => System.ServiceModel.TcpClientCredentialType.Certificate,
                "windows" => System.ServiceModel.TcpClientCredentialType.Windows,
                _ => System.ServiceModel.TcpClientCredentialType.None,
            } } },
        }.Security },
        // After security=: WCF's Security.Transport.ProtectionLevel (Windows credentials).
        "protection-level" => WithProtectionLevel(o, Enum.Parse<System.Net.Security.ProtectionLevel>(kv[1], ignoreCase: true)),
        "transport-security-path" => o with { TransportSecurityPath = kv[1] },
        "transfer-mode" => o with { TransferMode = Enum.Parse<System.ServiceModel.TransferMode>(kv[1], ignoreCase: true) },
        "reliable" => o with { ReliableSession = (o.ReliableSession ?? new ReliableSessionOptions()) with { Enabled = kv[1] != "off" } },
        "inactivity-timeout" => o with
        {
            ReliableSession = (o.ReliableSession ?? new ReliableSessionOptions()) with
            {
                InactivityTimeout = TimeSpan.FromSeconds(double.Parse(kv[1].TrimEnd('s'), CultureInfo.InvariantCulture)),
            },
        },
        _ => throw new ArgumentException($"--wcf-endpoint: unknown setting {kv[0]}"),
    });

// NetTcpSecurity is WCF's mutable class, made by this endpoint's security= just before.
static NetTcpEndpointOptions WithProtectionLevel(NetTcpEndpointOptions o, System.Net.Security.ProtectionLevel level)
{
    (o.Security ?? throw new ArgumentException("--wcf-endpoint: protection-level needs security= before it")).Transport.ProtectionLevel = level;
    return o;
}

// An option with two values (--wcf-reliable ADDRESS HOCON-PATH).
static List<(string, string)> Pairs(string[] args, string name) =>
    args.Select((a, i) => (a, i)).Where(p => p.a == name && p.i + 2 < args.Length).Select(p => (args[p.i + 1], args[p.i + 2])).ToList();
