using System.ServiceModel;

namespace AkkaPortShare.ServiceModel;

/// <summary>
/// WCF's [ServiceBehavior] for a service class served with ServeService: the client packages WCF ships for .NET have
/// neither this attribute nor <see cref="InstanceContextMode"/>, so a service moved from .NET Framework keeps its
/// attribute as it is and adds <c>using AkkaPortShare.ServiceModel;</c>. An attribute of the same name from elsewhere
/// (CoreWCF's, or a project's own) is honoured too: it is read by its property names.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class ServiceBehaviorAttribute : Attribute
{
    /// <summary>When instances are made: PerSession (the default on net.tcp), PerCall or Single.</summary>
    public InstanceContextMode InstanceContextMode { get; set; } = InstanceContextMode.PerSession;

    /// <summary>Single (the default): one call at a time per instance; Reentrant; Multiple: calls run at once.</summary>
    public ConcurrencyMode ConcurrencyMode { get; set; } = ConcurrencyMode.Single;

    /// <summary>Send an unexpected exception's message to the client (WCF's default: a generic internal-error fault).</summary>
    public bool IncludeExceptionDetailInFaults { get; set; }
}

/// <summary>WCF's InstanceContextMode, with its names and values.</summary>
public enum InstanceContextMode
{
    PerSession = 0,
    PerCall = 1,
    Single = 2,
}
