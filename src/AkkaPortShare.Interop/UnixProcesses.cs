using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop;

/// <summary>Whether a process runs, by kill(pid, 0): it delivers nothing and only checks. Linux only.</summary>
internal static class UnixProcesses
{
    /// <summary>True when a process with this id exists (also one of another user: EPERM says it exists).</summary>
    public static bool IsRunning(int processId)
    {
        if (!UnixHandover.IsSupported) throw new PlatformNotSupportedException("Process checks are implemented for Linux only.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(processId); // 0 and negative ids name process groups
        return LibC.kill(processId, 0) == 0 || Marshal.GetLastPInvokeError() == LibC.EPERM;
    }
}
