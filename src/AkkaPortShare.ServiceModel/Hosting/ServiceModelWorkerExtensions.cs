using Akka.Actor;
using AkkaPortShare.ServiceModel.Dispatch;
using AkkaPortShare.Worker.Hosting;

namespace AkkaPortShare.ServiceModel.Hosting;

public static class ServiceModelWorkerExtensions
{
    /// <summary>
    /// Serves a WCF [ServiceContract] at a base address for unmodified WCF clients (NetTcpBinding, security None).
    /// <paramref name="implementation"/> is the actor that implements the contract: it receives
    /// <see cref="ServiceOperations.OperationInvoked"/> and answers request/reply operations.
    /// </summary>
    /// <param name="reliableSessionPath">
    /// Optional HOCON path of a block with this endpoint's own reliable-session settings (same keys as
    /// akka-port-share.reliable-session, which it falls back to). Clients may open reliable sessions on any endpoint.
    /// </param>
    public static WorkerOptions ServeContract<TContract>(this WorkerOptions options, string baseAddress, Props implementation,
        string? reliableSessionPath = null) =>
        options.Serve(baseAddress, SoapServiceActor.Props(typeof(TContract), baseAddress, implementation, reliableSessionPath));
}
