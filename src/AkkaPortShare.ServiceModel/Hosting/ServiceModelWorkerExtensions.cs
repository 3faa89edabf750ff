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
    public static WorkerOptions ServeContract<TContract>(this WorkerOptions options, string baseAddress, Props implementation) =>
        options.Serve(baseAddress, SoapServiceActor.Props(typeof(TContract), implementation));
}
