using AkkaPortShare.Protocol.Addressing;

namespace AkkaPortShare.Protocol.Tests.Addressing;

/// <summary>
/// The Windows service keys on Uri.AbsolutePath; our own parser must split paths the same way, so each case is
/// checked against System.Uri itself.
/// </summary>
public sealed class PathCanonicalisationTests
{
    [Theory]
    [InlineData("/echo/svc")]
    [InlineData("/echo//svc/")]
    [InlineData("/a b/c")]
    [InlineData("/a\"b<c>^`{|}")]
    [InlineData("/a[b]")]
    [InlineData("/a%zz/%")]
    [InlineData("/a%41%7e%2D")]
    [InlineData("/a%5Cb/c%2fd")]
    [InlineData("/a\\b")]
    [InlineData("/a%2e/b")]
    [InlineData("/a/%2e%2e/b")]
    [InlineData("/./a/../../b/.")]
    [InlineData("/a/..b/.c")]
    [InlineData("/ä/é/日本")]
    [InlineData("/a%c3%a4")]
    [InlineData("/a;b=c/@:!$&'()*+,")]
    [InlineData("/a%25b/%3F/%23/%20")]
    [InlineData("/a\tb")]
    [InlineData("/😀")]
    public void ToSegments_AnyPath_MatchesSystemUriAbsolutePath(string path)
    {
        string[] expected = new Uri("net.tcp://h" + path).AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);

        List<string> segments = PathSyntax.ToSegments(path);

        Assert.Equal(expected, segments, StringComparer.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/echo/svc", true)]
    [InlineData("", true)]
    [InlineData("/", true)]
    [InlineData("/a;b=c/@:!$&'()*+,~", true)]
    [InlineData("/a/./b", false)]
    [InlineData("/a/..", false)]
    [InlineData("/a%41", false)]
    [InlineData("/a b", false)]
    [InlineData("/a\\b", false)]
    [InlineData("/ä", false)]
    public void IsCanonical_Path_TellsWhetherACopyIsNeeded(string path, bool canonical)
    {
        Assert.Equal(canonical, PathSyntax.IsCanonical(path));
    }
}
