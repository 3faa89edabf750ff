namespace AkkaPortShare.Protocol.Addressing;

/// <summary>Outcome of a registration, named after the Windows service's ListenerExceptionStatus values.</summary>
public enum RegistrationStatus
{
    Success,

    /// <summary>Exactly the same key (mode, host, port, path) is already registered.</summary>
    ConflictingRegistration,

    /// <summary>The address is longer than <see cref="BaseAddress.MaxAddressBytes"/> UTF-8 bytes.</summary>
    PathTooLong,

    /// <summary>The address is not a usable net.tcp base address (includes other schemes).</summary>
    InvalidAddress,
}
