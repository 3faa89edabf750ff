namespace AkkaPortShare.Contracts.Hosting;

/// <summary>
/// The tags of the router's and the workers' health checks (Microsoft.Extensions.Diagnostics.HealthChecks), so one
/// predicate serves both, e.g. ASP.NET Core's <c>MapHealthChecks("/ready", new() { Predicate = c =&gt;
/// c.Tags.Contains(HealthTags.Ready) })</c>.
/// </summary>
public static class HealthTags
{
    /// <summary>The process can do its work; a service manager restarts it otherwise.</summary>
    public const string Live = "live";

    /// <summary>Send it traffic: a router accepts; a worker has every address registered.</summary>
    public const string Ready = "ready";
}
