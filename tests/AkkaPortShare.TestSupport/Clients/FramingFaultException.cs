namespace AkkaPortShare.TestSupport.Clients;

/// <summary>A framing fault the server answered instead of PreambleAck (e.g. EndpointNotFound).</summary>
public sealed class FramingFaultException(string fault) : Exception($"the server answered fault {fault}")
{
    /// <summary>The fault's URI as sent.</summary>
    public string Fault { get; } = fault;

    /// <summary>The fault's last segment, e.g. EndpointNotFound.</summary>
    public string Name => Fault[(Fault.LastIndexOf('/') + 1)..];
}
