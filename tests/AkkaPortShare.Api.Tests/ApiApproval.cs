using System.Reflection;
using System.Text;
using PublicApiGenerator;

namespace AkkaPortShare.Api.Tests;

/// <summary>
/// Compares an assembly's generated public API with its checked-in ApiApproval/&lt;Assembly&gt;.approved.txt. On a
/// difference the test fails with the first differing lines and leaves &lt;Assembly&gt;.received.txt beside the approved
/// file; with APPROVE_API=1 the received text becomes the approved file instead (a deliberate API change).
/// </summary>
internal static class ApiApproval
{
    internal const string ApproveVariable = "APPROVE_API";

    // The diff in a failure message stops here: enough to see what changed, short enough to read in a test log.
    private const int MaxDiffLines = 40;

    // Attributes whose values change from build to build (version, commit) or say nothing about the API.
    private static readonly string[] VaryingAttributes =
    [
        "System.Reflection.AssemblyVersionAttribute",
        "System.Reflection.AssemblyFileVersionAttribute",
        "System.Reflection.AssemblyInformationalVersionAttribute",
        "System.Reflection.AssemblyConfigurationAttribute",
        "System.Reflection.AssemblyMetadataAttribute",
    ];

    public static void Approve(string assemblyName)
    {
        var received = Generate(Assembly.Load(new AssemblyName(assemblyName)));
        var directory = ApprovalDirectory();
        var approvedPath = Path.Combine(directory, assemblyName + ".approved.txt");
        var receivedPath = Path.Combine(directory, assemblyName + ".received.txt");

        if (Environment.GetEnvironmentVariable(ApproveVariable) == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(approvedPath, received);
            File.Delete(receivedPath);
            return;
        }

        var approved = File.Exists(approvedPath) ? Normalise(File.ReadAllText(approvedPath)) : "";
        if (approved == received)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, received);
        Assert.Fail(
            $"The public API of {assemblyName} differs from {approvedPath}" +
            (approved.Length == 0 ? " (no approved file yet)" : "") + $".\n{Diff(approved, received)}\n" +
            $"The generated API is in {receivedPath}. If the change is meant, re-approve with " +
            $"{ApproveVariable}=1 dotnet test tests/AkkaPortShare.Api.Tests");
    }

    // The checked-in folder beside this project, found upwards from the test's output (bin/<configuration>/<tfm>),
    // not from a compile-time source path, which a path-mapped (deterministic CI) build would not keep.
    private static string ApprovalDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AkkaPortShare.Api.Tests.csproj")))
                return Path.Combine(dir.FullName, "ApiApproval");
        }
        throw new DirectoryNotFoundException(
            $"No AkkaPortShare.Api.Tests.csproj above {AppContext.BaseDirectory}: run the tests from their build output.");
    }

    public static string Generate(Assembly assembly) =>
        Normalise(assembly.GeneratePublicApi(new ApiGeneratorOptions { ExcludeAttributes = VaryingAttributes }));

    // One line ending and one trailing newline, so a checkout with autocrlf or an editor's final newline is no change.
    internal static string Normalise(string api) => api.Replace("\r\n", "\n").TrimEnd('\n') + "\n";

    /// <summary>
    /// The lines between the common head and the common tail, as removed (-) and added (+) lines, at most
    /// <see cref="MaxDiffLines"/> of them, with the line number where the first difference is.
    /// </summary>
    internal static string Diff(string approved, string received)
    {
        var before = approved.Split('\n');
        var after = received.Split('\n');
        var head = 0;
        while (head < before.Length && head < after.Length && before[head] == after[head]) head++;
        var tail = 0;
        while (tail < before.Length - head && tail < after.Length - head &&
               before[before.Length - 1 - tail] == after[after.Length - 1 - tail]) tail++;

        var removed = before[head..(before.Length - tail)];
        var added = after[head..(after.Length - tail)];
        var diff = new StringBuilder($"First difference at line {head + 1} (- approved, + received):\n");
        var shown = 0;
        foreach (var line in LineDiff(removed, added))
        {
            if (shown++ == MaxDiffLines)
            {
                diff.Append("  ... (more differences: compare the two files)\n");
                break;
            }
            diff.Append(line).Append('\n');
        }
        return diff.ToString();
    }

    // A longest-common-subsequence diff of the differing middle, so an added member elsewhere does not show the
    // whole file as changed; a middle too large for the table is shown as all removed then all added.
    private static IEnumerable<string> LineDiff(string[] removed, string[] added)
    {
        if ((long)removed.Length * added.Length > 4_000_000)
        {
            foreach (var line in removed) yield return "- " + line;
            foreach (var line in added) yield return "+ " + line;
            yield break;
        }
        var common = new int[removed.Length + 1, added.Length + 1];
        for (var i = removed.Length - 1; i >= 0; i--)
        for (var j = added.Length - 1; j >= 0; j--)
            common[i, j] = removed[i] == added[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);

        int r = 0, a = 0;
        while (r < removed.Length || a < added.Length)
        {
            if (r < removed.Length && a < added.Length && removed[r] == added[a]) { yield return "  " + removed[r]; r++; a++; }
            else if (a < added.Length && (r == removed.Length || common[r, a + 1] >= common[r + 1, a])) yield return "+ " + added[a++];
            else yield return "- " + removed[r++];
        }
    }
}
