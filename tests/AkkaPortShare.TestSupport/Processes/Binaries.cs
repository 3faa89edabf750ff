namespace AkkaPortShare.TestSupport.Processes;

/// <summary>Finds the router and sample worker built alongside this test assembly (same configuration).</summary>
public static class Binaries
{
    public static readonly string RepoRoot = FindRepoRoot();

    /// <summary>The build configuration of this test run (Debug or Release).</summary>
    public static readonly string Configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    public static string Router => Output("AkkaPortShare.Host", "akkaportshare.dll");
    public static string EchoWorker => Output("AkkaPortShare.Samples.Echo", "echo-worker.dll");

    /// <summary>The attack program (aps-fuzz), run as a process of its own (e.g. as another user).</summary>
    public static string Fuzz => Output("AkkaPortShare.Fuzz", "aps-fuzz.dll");

    private static string Output(string project, string dll)
    {
        var path = Path.Combine(RepoRoot, "src", project, "bin", Configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {project} first: {path} is missing.");
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AkkaPortShare.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("AkkaPortShare.sln not found above the test assembly.");
    }
}
