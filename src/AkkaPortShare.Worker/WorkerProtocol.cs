namespace AkkaPortShare.Worker;

/// <summary>Questions a host or a test may ask the worker actor.</summary>
public static class WorkerProtocol
{
    public sealed class GetStatus
    {
        public static readonly GetStatus Instance = new();
        private GetStatus() { }
    }

    /// <summary>Unregistered: given back to the router as the worker shuts down (it finishes its sessions, takes no new ones).</summary>
    public enum RegistrationState { Pending, Registered, Refused, Unregistered }

    public sealed record AddressStatus(string BaseAddress, RegistrationState State, string? Detail);

    /// <summary>DataPort: the worker's own net.tcp listener (direct and relay connections).</summary>
    public sealed record WorkerStatus(IReadOnlyList<AddressStatus> Addresses, int DataPort, string? HandoverPath);
}
