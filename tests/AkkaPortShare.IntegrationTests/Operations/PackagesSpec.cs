using System.Text.RegularExpressions;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.Operations;

/// <summary>
/// The packages as a user meets them: packed into a local feed (what scripts/pack.sh does), consumed by a fresh
/// project outside this repository whose Program.cs is the README's "Serve your own address" code as written, and
/// the router installed from the same feed as a .NET tool.
/// </summary>
public sealed class PackagesSpec
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(6); // per command

    [Fact]
    public async Task The_READMEs_worker_builds_from_the_packed_packages_and_the_router_installs_as_a_tool()
    {
        var root = Directory.CreateTempSubdirectory("aps-packages-").FullName;
        try
        {
            var feed = Path.Combine(root, "feed");
            var pack = await Command.RunAsync(Limit, Binaries.RepoRoot, "dotnet", "pack", "AkkaPortShare.sln", "--no-build",
                "-c", Binaries.Configuration, "-o", feed);
            Assert.True(pack.Code == 0, pack.Output);
            var packages = Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).Order().ToList();
            Assert.Equal(
                ["AkkaPortShare.Contracts.0.3.0.nupkg", "AkkaPortShare.Interop.0.3.0.nupkg", "AkkaPortShare.Protocol.0.3.0.nupkg",
                 "AkkaPortShare.ReliableSessions.0.3.0.nupkg", "AkkaPortShare.Router.0.3.0.nupkg",
                 "AkkaPortShare.ServiceModel.0.3.0.nupkg", "AkkaPortShare.Worker.0.3.0.nupkg", "akkaportshare.0.3.0.nupkg"],
                packages);

            var consumer = Path.Combine(root, "orders-worker");
            Directory.CreateDirectory(consumer);
            // The feed comes on top of the machine's own sources. Packages restore into a folder of this test (the
            // global folder serves only as a fallback), so a stale AkkaPortShare package from an earlier run is never used.
            await File.WriteAllTextAsync(Path.Combine(consumer, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources><add key="akkaportshare-local" value="{feed}" /></packageSources>
                </configuration>
                """);
            var globalPackages = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            await File.WriteAllTextAsync(Path.Combine(consumer, "orders-worker.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <RestorePackagesPath>{Path.Combine(root, "packages")}</RestorePackagesPath>
                    <RestoreAdditionalProjectFallbackFolders>{globalPackages}</RestoreAdditionalProjectFallbackFolders>
                    <NoWarn>NU1603</NoWarn>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="AkkaPortShare.Worker" Version="0.3.0" />
                    <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.0" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(consumer, "Program.cs"), ReadmeSnippet("## Serve your own address"));

            var build = await Command.RunAsync(Limit, consumer, "dotnet", "build", "-c", "Release");
            Assert.True(build.Code == 0, build.Output);

            var tools = Path.Combine(root, "tools");
            var install = await Command.RunAsync(Limit, root, "dotnet", "tool", "install", "akkaportshare", "--tool-path", tools,
                "--add-source", feed, "--version", "0.3.0");
            Assert.True(install.Code == 0, install.Output);
            var version = await Command.RunAsync(Limit, root, Path.Combine(tools, "akkaportshare"), "--version");
            Assert.True(version.Code == 0, version.Output);
            Assert.Contains("akkaportshare 0.3.0", version.Output);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    // The first C# block after the heading, exactly as the README shows it.
    private static string ReadmeSnippet(string heading)
    {
        var readme = File.ReadAllText(Path.Combine(Binaries.RepoRoot, "README.md"));
        var section = readme[readme.IndexOf(heading, StringComparison.Ordinal)..];
        var match = Regex.Match(section, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, $"no C# block under {heading}");
        return match.Groups[1].Value;
    }
}
