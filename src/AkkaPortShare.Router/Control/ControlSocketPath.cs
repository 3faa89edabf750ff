using AkkaPortShare.Interop;
using AkkaPortShare.Router.Configuration;

namespace AkkaPortShare.Router.Control;

/// <summary>Where a router's control socket is (control-socket), for the router that opens it and the commands that
/// look for it.</summary>
internal static class ControlSocketPath
{
    public const string Off = "off";

    /// <summary>The socket a router listening on <paramref name="port"/> opens; null when control-socket is off.</summary>
    public static string? For(RouterSettings settings, int port) => settings.ControlSocket switch
    {
        Off => null,
        "" => Path.Combine(PrivateDirectory.DefaultSocketDirectory(), FileName(port)),
        var path => path,
    };

    /// <summary>
    /// Where a command run from a shell looks, in order: the configured path; else the default name in
    /// $RUNTIME_DIRECTORY, in /run/akkaportshare (the systemd unit's RuntimeDirectory=, which a shell does not
    /// have in its environment) and in this user's temp directory.
    /// </summary>
    public static IReadOnlyList<string> Candidates(RouterSettings settings, int port)
    {
        if (settings.ControlSocket == Off) return [];
        if (settings.ControlSocket.Length > 0) return [settings.ControlSocket];
        var directories = new[] { PrivateDirectory.RuntimeDirectory(), "/run/akkaportshare", PrivateDirectory.UserTempDirectory() };
        return directories.OfType<string>().Distinct().Select(d => Path.Combine(d, FileName(port))).ToList();
    }

    private static string FileName(int port) => $"router-{port}.sock";
}
