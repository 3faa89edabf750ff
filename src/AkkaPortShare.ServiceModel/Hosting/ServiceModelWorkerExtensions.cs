using Akka.Actor;
using Akka.Configuration;
using AkkaPortShare.Contracts.Configuration;
using AkkaPortShare.ServiceModel.Dispatch;
using AkkaPortShare.ServiceModel.Wsrm;
using AkkaPortShare.Worker.Hosting;

namespace AkkaPortShare.ServiceModel.Hosting;

public static class ServiceModelWorkerExtensions
{
    /// <summary>
    /// Serves a WCF [ServiceContract] at a base address for unmodified WCF clients (NetTcpBinding, security None).
    /// <paramref name="implementation"/> is the actor that implements the contract: it receives
    /// <see cref="ServiceOperations.OperationInvoked"/> and answers request/reply operations. The WCF layer's settings
    /// (and the endpoint's reliable-session block) are checked with the worker's when the actor system starts.
    /// </summary>
    /// <param name="reliableSessionPath">
    /// Optional HOCON path of a block with this endpoint's own reliable-session settings (same keys as
    /// akka-port-share.reliable-session, which it falls back to). Clients may open reliable sessions on any endpoint.
    /// </param>
    public static WorkerOptions ServeContract<TContract>(this WorkerOptions options, string baseAddress, Props implementation,
        string? reliableSessionPath = null) => options
        .CheckSettings(config => CheckSettings(config, reliableSessionPath), reliableSessionPath)
        .Serve(baseAddress, SoapServiceActor.Props(typeof(TContract), baseAddress, implementation, reliableSessionPath));

    /// <summary>
    /// Every problem of <c>akka-port-share.service-model</c>, <c>akka-port-share.reliable-session</c> and the
    /// endpoint's own block, at once: the service actors read them only when they start, too late to refuse a start.
    /// </summary>
    internal static void CheckSettings(Config config, string? reliableSessionPath)
    {
        var problems = new List<string>();
        Collect(problems, () => ServiceModelSettings.Create(config));
        Collect(problems, () => WsrmEndpointSettings.Create(config));
        if (reliableSessionPath is not null)
        {
            if (!config.HasPath(reliableSessionPath))
                problems.Add($"{reliableSessionPath} (an endpoint's reliableSessionPath) is not in the configuration; expected a block with reliable-session settings");
            else
            {
                // An endpoint block is the operator's own: a misspelt key there is named before the values it holds.
                problems.AddRange(WsrmEndpointSettings.UnknownKeys(config, reliableSessionPath));
                Collect(problems, () => WsrmEndpointSettings.Create(config, reliableSessionPath));
            }
        }
        if (problems.Count > 0) throw new SettingsException("akka-port-share", problems);
    }

    private static void Collect(List<string> problems, Action read)
    {
        try
        {
            read();
        }
        catch (SettingsException e)
        {
            problems.AddRange(e.Problems);
        }
    }
}
