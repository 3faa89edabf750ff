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
    /// <param name="binding">
    /// This endpoint's binding settings with WCF's names (timeouts, sizes, reader quotas, reliable session, text or
    /// binary encoding); what it sets wins over HOCON for this endpoint, what it leaves null HOCON gives.
    /// </param>
    public static WorkerOptions ServeContract<TContract>(this WorkerOptions options, string baseAddress, Props implementation,
        string? reliableSessionPath = null, NetTcpEndpointOptions? binding = null)
    {
        binding = Snapshot(binding);
        return options
            .CheckSettings(config => CheckSettings(config, reliableSessionPath, baseAddress, binding), reliableSessionPath)
            .Serve(baseAddress, SoapServiceActor.Props(typeof(TContract), baseAddress, implementation, reliableSessionPath, binding), binding);
    }

    /// <summary>
    /// Serves the contract a <see cref="ContractActor{TContract}"/> implements with one actor per session, as WCF's
    /// PerSession instancing (net.tcp's default): each session gets a <typeparamref name="TActor"/> of its own, created
    /// when the session starts and stopped when it ends. For one actor serving every session, use
    /// <see cref="ServeContract{TContract}"/> with the actor's Props.
    /// </summary>
    /// <param name="props">How to create each session's actor (default: <c>Props.Create&lt;TActor&gt;()</c>, its
    /// parameterless constructor).</param>
    /// <param name="binding">This endpoint's binding settings; see <see cref="ServeContract{TContract}"/>.</param>
    public static WorkerOptions ServeActor<TActor>(this WorkerOptions options, string baseAddress, Props? props = null,
        string? reliableSessionPath = null, NetTcpEndpointOptions? binding = null) where TActor : ActorBase
    {
        var contract = ContractOf(typeof(TActor));
        if (props is not null && !typeof(TActor).IsAssignableFrom(props.Type))
            throw new ArgumentException($"props create {props.Type.Name}, not {typeof(TActor).Name}.", nameof(props));
        binding = Snapshot(binding);
        return options
            .CheckSettings(config => CheckSettings(config, reliableSessionPath, baseAddress, binding), reliableSessionPath)
            .Serve(baseAddress, SoapServiceActor.Props(contract, baseAddress,
                TypedActors.SessionActors.Props(props ?? Props.Create<TActor>()), reliableSessionPath, binding));
    }

    // The TContract of the ContractActor<TContract> an actor type derives from.
    private static Type ContractOf(Type actorType)
    {
        for (var type = actorType; type is not null; type = type.BaseType)
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ContractActor<>))
                return type.GetGenericArguments()[0];
        throw new ArgumentException($"{actorType.Name} does not derive from ContractActor<TContract>; serve other actors with ServeContract<TContract>.");
    }

    /// <summary>
    /// Serves a WCF service class as it is: the class implements its [ServiceContract] and is hosted as its
    /// [ServiceBehavior] says (InstanceContextMode PerSession, the default, PerCall or Single; ConcurrencyMode Single,
    /// the default, Reentrant or Multiple), each instance in an actor of its own. Its operations may be synchronous,
    /// Task-based or Begin/End; a FaultException reaches the client as that fault, any other exception as WCF's
    /// internal-error fault. The class must implement exactly one service contract; otherwise name it with
    /// <see cref="ServeService{TService,TContract}"/>.
    /// </summary>
    /// <param name="create">Makes an instance (default: the public parameterless constructor).</param>
    /// <param name="binding">This endpoint's binding settings; see <see cref="ServeContract{TContract}"/>.</param>
    public static WorkerOptions ServeService<TService>(this WorkerOptions options, string baseAddress, Func<TService>? create = null,
        string? reliableSessionPath = null, NetTcpEndpointOptions? binding = null) where TService : class
    {
        var contracts = typeof(TService).GetInterfaces()
            .Where(i => i.IsDefined(typeof(System.ServiceModel.ServiceContractAttribute), inherit: false)).ToList();
        if (contracts.Count != 1)
            throw new ArgumentException($"{typeof(TService).Name} implements {contracts.Count} service contracts " +
                $"({string.Join(", ", contracts.Select(c => c.Name))}); name the one to serve with ServeService<TService, TContract>.");
        return options.ServeService(typeof(TService), contracts[0], baseAddress, create, reliableSessionPath, binding);
    }

    /// <summary>Serves contract <typeparamref name="TContract"/> of service class <typeparamref name="TService"/>; see <see cref="ServeService{TService}"/>.</summary>
    public static WorkerOptions ServeService<TService, TContract>(this WorkerOptions options, string baseAddress,
        Func<TService>? create = null, string? reliableSessionPath = null, NetTcpEndpointOptions? binding = null)
        where TService : class, TContract =>
        options.ServeService(typeof(TService), typeof(TContract), baseAddress, create, reliableSessionPath, binding);

    private static WorkerOptions ServeService<TService>(this WorkerOptions options, Type serviceType, Type contractType,
        string baseAddress, Func<TService>? create, string? reliableSessionPath, NetTcpEndpointOptions? binding) where TService : class
    {
        Func<object> factory = create is null ? () => Activator.CreateInstance(serviceType)! : () => create();
        binding = Snapshot(binding);
        return options
            .CheckSettings(config => CheckSettings(config, reliableSessionPath, baseAddress, binding), reliableSessionPath)
            .Serve(baseAddress, SoapServiceActor.Props(contractType, baseAddress,
                Instancing.ServiceHostActor.Props(serviceType, contractType, factory), reliableSessionPath, binding), binding);
    }

    // An endpoint with security options of its own is served with them; the others take the worker's HOCON.
    private static WorkerOptions Serve(this WorkerOptions options, string baseAddress, Props service, NetTcpEndpointOptions? binding) =>
        EndpointTransportSecurity.Of(binding) is { } security ? options.Serve(baseAddress, service, security) : options.Serve(baseAddress, service);

    // The quotas are WCF's mutable class: the endpoint keeps them as they were when it was configured.
    private static NetTcpEndpointOptions? Snapshot(NetTcpEndpointOptions? binding)
    {
        if (binding?.ReaderQuotas is not { } quotas) return binding;
        var copy = new System.Xml.XmlDictionaryReaderQuotas();
        quotas.CopyTo(copy);
        return binding with { ReaderQuotas = copy };
    }

    /// <summary>
    /// Every problem of <c>akka-port-share.service-model</c>, <c>akka-port-share.reliable-session</c> and the
    /// endpoint's own block, at once: the service actors read them only when they start, too late to refuse a start.
    /// </summary>
    internal static void CheckSettings(Config config, string? reliableSessionPath, string? baseAddress = null,
        NetTcpEndpointOptions? binding = null)
    {
        var problems = new List<string>(EndpointBinding.Problems(baseAddress ?? "", binding));
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
