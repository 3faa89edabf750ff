namespace AkkaPortShare.Api.Tests;

/// <summary>The comparison itself: a failing approval has to say what changed, and only that.</summary>
public sealed class ApiApprovalSpec
{
    [Fact]
    public void Diff_shows_an_added_member_where_it_is_and_nothing_else()
    {
        var approved = string.Join('\n', Enumerable.Range(0, 100).Select(i => $"line {i}")) + "\n";
        var received = approved.Replace("line 50\n", "line 50\nadded\n");

        var diff = ApiApproval.Diff(approved, received);

        Assert.Contains("First difference at line 52", diff);
        Assert.Contains("+ added", diff);
        Assert.DoesNotContain("\n- ", diff);
        Assert.DoesNotContain("line 10\n", diff);
    }

    [Fact]
    public void Diff_shows_a_removed_and_a_changed_line_and_stops_at_its_limit()
    {
        var approved = "a\nb\nc\nd\n";
        var received = "a\nc\nD\n";
        var diff = ApiApproval.Diff(approved, received);
        Assert.Contains("- b", diff);
        Assert.Contains("- d", diff);
        Assert.Contains("+ D", diff);

        var many = string.Join('\n', Enumerable.Range(0, 200).Select(i => $"member {i}"));
        Assert.Contains("more differences", ApiApproval.Diff("", many));
    }

    [Fact]
    public void Line_endings_and_a_final_newline_are_no_change() =>
        Assert.Equal(ApiApproval.Normalise("a\nb\n"), ApiApproval.Normalise("a\r\nb"));

    [Fact]
    public void The_generated_api_names_no_build_version()
    {
        var api = ApiApproval.Generate(typeof(ApiApprovalSpec).Assembly);
        Assert.DoesNotContain("AssemblyInformationalVersion", api);
        Assert.DoesNotContain("AssemblyFileVersion", api);
        Assert.Contains("class PublicApiSpec", api);
    }
}
