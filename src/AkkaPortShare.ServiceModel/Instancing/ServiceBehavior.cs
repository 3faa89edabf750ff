using System.ServiceModel;
using InstanceContextMode = AkkaPortShare.ServiceModel.InstanceContextMode;

namespace AkkaPortShare.ServiceModel.Instancing;

/// <summary>
/// How a service class wants to be hosted, as its [ServiceBehavior] says: WCF's defaults are PerSession instances
/// (net.tcp has sessions), Single concurrency and no exception detail in faults.
/// </summary>
internal sealed record ServiceBehavior(InstanceContextMode InstanceMode, ConcurrencyMode Concurrency, bool IncludeExceptionDetailInFaults)
{
    public static readonly ServiceBehavior Default = new(InstanceContextMode.PerSession, ConcurrencyMode.Single, false);

    /// <summary>
    /// Reads the service class's [ServiceBehavior]. WCF's client packages have no ServiceBehaviorAttribute, so an
    /// attribute of that name is read by its properties, whichever assembly defines it: a shim a ported project
    /// keeps, CoreWCF's, or any other with WCF's property names.
    /// </summary>
    public static ServiceBehavior For(Type serviceType)
    {
        var attribute = serviceType.GetCustomAttributes(inherit: true)
            .FirstOrDefault(a => a.GetType().Name == "ServiceBehaviorAttribute");
        if (attribute is null) return Default;
        var type = attribute.GetType();
        T Read<T>(string name, T fallback) =>
            type.GetProperty(name)?.GetValue(attribute) is { } value ? Convert<T>(value, fallback) : fallback;
        return new ServiceBehavior(
            Read("InstanceContextMode", Default.InstanceMode),
            Read("ConcurrencyMode", Default.Concurrency),
            Read("IncludeExceptionDetailInFaults", Default.IncludeExceptionDetailInFaults));
    }

    // Another assembly's enums (CoreWCF's) have the same names and values as WCF's: map them by name.
    private static T Convert<T>(object value, T fallback) => value switch
    {
        T same => same,
        Enum other when typeof(T).IsEnum && Enum.TryParse(typeof(T), other.ToString(), out var mapped) => (T)mapped!,
        _ => fallback,
    };
}
