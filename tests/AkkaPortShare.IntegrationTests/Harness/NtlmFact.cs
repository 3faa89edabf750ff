using AkkaPortShare.TestSupport.Security;

namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>A fact that needs NTLM through gss-ntlmssp: installs the package when absent, skipped (saying why) only when that fails.</summary>
public sealed class NtlmFactAttribute : FactAttribute
{
    public NtlmFactAttribute()
    {
        if (GssNtlmssp.Unavailable is { } reason) Skip = reason;
    }
}
