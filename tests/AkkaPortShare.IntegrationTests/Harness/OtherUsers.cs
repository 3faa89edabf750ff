namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>The user attack and authorisation specs run processes as (through setpriv, see <see cref="ManagedProcess.StartDllAs(string, uint?, string, string[])"/>).</summary>
public static class OtherUsers
{
    public const uint Nobody = 65534;

    /// <summary>Starting a process as another user needs root and setpriv; specs that need it say so and return otherwise.</summary>
    public static bool CanSwitchUser =>
        OperatingSystem.IsLinux() && Environment.UserName == "root" && File.Exists("/usr/bin/setpriv");
}
