using System.Net;
using System.Net.Sockets;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.Contracts.Cluster;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Control;
using AkkaPortShare.Router.Hosting;

namespace AkkaPortShare.Host;

/// <summary>
/// Everything that can keep the router from doing its job, checked before anything starts, so that each ends the
/// process with one clear line and a sysexits.h code instead of a router that runs and routes nothing: the
/// configuration (78), the remoting port (69 when another router holds it), and the shared port (69 in use,
/// 77 no permission), which is opened here (or taken from systemd) and handed to the router.
/// </summary>
internal static class Preflight
{
    /// <param name="Cluster">akka-port-share.cluster, read here because the actor system is made a cluster member (or
    /// not) before it starts.</param>
    public sealed record Outcome(SharedPort? Port, string? Problem, int ExitCode, PortShareClusterSettings? Cluster = null);

    public static Outcome Run(FileInfo? configFile, bool takeover = false)
    {
        Config operatorConfig;
        RouterSettings settings;
        PortShareClusterSettings cluster;
        try
        {
            operatorConfig = configFile is null ? Config.Empty : ConfigurationFactory.ParseString(File.ReadAllText(configFile.FullName));
            settings = RouterSettings.Create(operatorConfig);
            cluster = PortShareClusterSettings.Create(operatorConfig);
        }
        catch (SettingsException e)
        {
            return new Outcome(null, e.Message, SettingsException.ExitCode);
        }
        catch (ConfigurationException e)
        {
            return new Outcome(null, $"Invalid configuration in {configFile?.FullName}: {e.Message}", SettingsException.ExitCode);
        }

        try
        {
            var takenOver = takeover ? Takeover.TakeListener(settings) : null;
            ProbeRemotingPort(operatorConfig.WithFallback(RouterSettings.DefaultConfig()));
            return new Outcome(takenOver ?? SharedPort.Open(settings), null, 0, cluster);
        }
        catch (CannotListenException e)
        {
            return new Outcome(null, e.Message, e.ExitCode);
        }
    }

    // Akka.Remote binds its port with SO_REUSEPORT, so a second router on the same remoting port would start and
    // share the workers' registrations with the first at random. A plain bind fails while anyone listens there.
    private static void ProbeRemotingPort(Config config)
    {
        const string settings = "akka.remote.dot-netty.tcp.hostname and port";
        var port = config.GetInt("akka.remote.dot-netty.tcp.port");
        if (port == 0) return;
        var host = config.GetString("akka.remote.dot-netty.tcp.hostname");
        var address = IPAddress.TryParse(host, out var parsed) ? parsed
            : Dns.GetHostAddresses(host).FirstOrDefault() ?? throw new CannotListenException(
                $"Cannot open the remoting port: {host} ({settings}) does not resolve.", CannotListenException.Unavailable);
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException e)
        {
            throw CannotListenException.For(new IPEndPoint(address, port), e, settings);
        }
    }
}
