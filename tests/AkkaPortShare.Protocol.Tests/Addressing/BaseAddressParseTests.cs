using System.Net;
using AkkaPortShare.Protocol.Addressing;

namespace AkkaPortShare.Protocol.Tests.Addressing;

public sealed class BaseAddressParseTests
{
    [Fact]
    public void Parse_StrongWildcardWithPort_SplitsIntoSegments()
    {
        BaseAddress address = BaseAddress.Parse("net.tcp://+:8808/echo/svc/");

        Assert.Equal("net.tcp", address.Scheme);
        Assert.Equal(HostNameComparisonMode.StrongWildcard, address.Mode);
        Assert.Equal("+", address.Host);
        Assert.Equal(8808, address.Port);
        Assert.Equal(["echo", "svc"], address.PathSegments);
        Assert.Equal("net.tcp://+:8808/echo/svc/", address.ToString());
        Assert.Null(address.HostAddress);
    }

    [Theory]
    [InlineData("net.tcp://+:8808/echo/", HostNameComparisonMode.StrongWildcard, "+")]
    [InlineData("net.tcp://*:8808/echo/", HostNameComparisonMode.WeakWildcard, "*")]
    [InlineData("net.tcp://localhost:8808/echo/", HostNameComparisonMode.Exact, "localhost")]
    [InlineData("net.tcp://my-host.example.com:8808/echo/", HostNameComparisonMode.Exact, "my-host.example.com")]
    [InlineData("net.tcp://10.1.2.3:8808/echo/", HostNameComparisonMode.Exact, "10.1.2.3")]
    [InlineData("net.tcp://[::1]:8808/echo/", HostNameComparisonMode.Exact, "[::1]")]
    public void Parse_HostToken_SetsModeAndHost(string text, HostNameComparisonMode mode, string host)
    {
        BaseAddress address = BaseAddress.Parse(text);

        Assert.Equal(mode, address.Mode);
        Assert.Equal(host, address.Host);
    }

    [Theory]
    [InlineData("net.tcp://localhost/echo", 808)]
    [InlineData("net.tcp://localhost:/echo", 808)]
    [InlineData("net.tcp://localhost", 808)]
    [InlineData("net.tcp://[::1]/echo", 808)]
    [InlineData("net.tcp://localhost:808/echo", 808)]
    [InlineData("net.tcp://localhost:1/echo", 1)]
    [InlineData("net.tcp://localhost:65535/echo", 65535)]
    [InlineData("net.tcp://[::1]:9000/echo", 9000)]
    public void Parse_Port_IsExplicitOrDefault808(string text, int port)
    {
        Assert.Equal(port, BaseAddress.Parse(text).Port);
    }

    [Theory]
    [InlineData("net.tcp://+:8808/echo/svc")]
    [InlineData("net.tcp://+:8808/echo/svc/")]
    [InlineData("net.tcp://+:8808//echo//svc//")]
    [InlineData("net.tcp://+:8808/echo/svc?query=1")]
    [InlineData("net.tcp://+:8808/echo/svc/#fragment")]
    [InlineData("NET.TCP://+:8808/ECHO/Svc")]
    [InlineData("net.tcp://+:8808/echo/./x/../svc")]
    [InlineData("net.tcp://+:8808/%65cho%2Fsvc")]
    [InlineData("  net.tcp://+:8808/echo/svc  ")]
    public void Parse_EquivalentSpellings_AreEqual(string text)
    {
        BaseAddress expected = BaseAddress.Parse("net.tcp://+:8808/echo/svc/");
        BaseAddress address = BaseAddress.Parse(text);

        Assert.Equal(expected, address);
        Assert.True(expected == address);
        Assert.Equal(expected.GetHashCode(), address.GetHashCode());
        Assert.Equal(text, address.Original);
    }

    [Theory]
    [InlineData("net.tcp://*:8808/echo/svc/")]
    [InlineData("net.tcp://localhost:8808/echo/svc/")]
    [InlineData("net.tcp://+:8809/echo/svc/")]
    [InlineData("net.tcp://+:8808/echo/")]
    [InlineData("net.tcp://+:8808/echo/svc/x/")]
    [InlineData("net.tcp://+:8808/echo/svcX/")]
    public void Equals_DifferentSegmentList_IsFalse(string text)
    {
        BaseAddress reference = BaseAddress.Parse("net.tcp://+:8808/echo/svc/");

        Assert.NotEqual(reference, BaseAddress.Parse(text));
        Assert.True(reference != BaseAddress.Parse(text));
    }

    [Fact]
    public void Parse_MixedCase_LowersHostKeepsPathAndComparesIgnoringCase()
    {
        BaseAddress address = BaseAddress.Parse("NET.TCP://LocalHost:9000/Echo/Svc");

        Assert.Equal("net.tcp", address.Scheme);
        Assert.Equal("localhost", address.Host);
        Assert.Equal(["Echo", "Svc"], address.PathSegments);
        Assert.Equal(BaseAddress.Parse("net.tcp://LOCALHOST:9000/echo/svc/"), address);
    }

    [Theory]
    [InlineData("net.tcp://[0:0:0:0:0:0:0:1]:9000/", "[::1]")]
    [InlineData("net.tcp://[FE80::1%25eth0]:9000/", "[fe80::1]")]
    [InlineData("net.tcp://[::FFFF:127.0.0.1]:9000/", "[::ffff:127.0.0.1]")]
    [InlineData("net.tcp://127.000.0.01:9000/", "127.0.0.1")]
    public void Parse_IpLiteral_IsCanonicalised(string text, string host)
    {
        BaseAddress address = BaseAddress.Parse(text);

        Assert.Equal(host, address.Host);
        Assert.NotNull(address.HostAddress);
        Assert.Equal(HostNameComparisonMode.Exact, address.Mode);
    }

    [Fact]
    public void Parse_IPv6Literal_ExposesAddress()
    {
        BaseAddress address = BaseAddress.Parse("net.tcp://[::1]:9000/echo/");

        Assert.Equal(IPAddress.IPv6Loopback, address.HostAddress);
        Assert.Equal("net.tcp://[::1]:9000/echo/", address.ToString());
    }

    [Theory]
    [InlineData("http://+:8808/echo/")]
    [InlineData("net.pipe://localhost/echo/")]
    [InlineData("https://localhost/")]
    public void TryParse_OtherScheme_FailsWithSchemeError(string text)
    {
        Assert.False(BaseAddress.TryParse(text, out BaseAddress? result, out RegistrationStatus status, out string? error));

        Assert.Null(result);
        Assert.Equal(RegistrationStatus.InvalidAddress, status);
        Assert.Contains("scheme must be net.tcp", error);
    }

    [Theory]
    [InlineData("/echo/svc")]
    [InlineData("echo/svc")]
    [InlineData("+:8808/echo")]
    public void TryParse_RelativeAddress_Fails(string text)
    {
        Assert.False(BaseAddress.TryParse(text, out BaseAddress? result, out string? error));

        Assert.Null(result);
        Assert.Contains("not an absolute URI", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("net.tcp:")]
    [InlineData("net.tcp:/echo")]
    [InlineData("net.tcp://")]
    [InlineData("net.tcp:///echo")]
    [InlineData("net.tcp://:8808/echo")]
    [InlineData("net.tcp://host:65536/")]
    [InlineData("net.tcp://host:0/")]
    [InlineData("net.tcp://host:12ab/")]
    [InlineData("net.tcp://host:80:80/")]
    [InlineData("net.tcp://user@host/")]
    [InlineData("net.tcp://[::1/")]
    [InlineData("net.tcp://[::1]x/")]
    [InlineData("net.tcp://[not-v6]/")]
    [InlineData("net.tcp://[127.0.0.1]/")]
    [InlineData("net.tcp://ho st/")]
    [InlineData("net.tcp://+x/")]
    public void TryParse_InvalidAddress_FailsWithReason(string? text)
    {
        Assert.False(BaseAddress.TryParse(text, out BaseAddress? result, out RegistrationStatus status, out string? error));

        Assert.Null(result);
        Assert.Equal(RegistrationStatus.InvalidAddress, status);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void TryParse_Exactly2048Bytes_Succeeds()
    {
        string text = AddressOfLength(2048, 'a');

        Assert.True(BaseAddress.TryParse(text, out BaseAddress? result, out RegistrationStatus status, out _));
        Assert.Equal(RegistrationStatus.Success, status);
        Assert.NotNull(result);
    }

    [Theory]
    [InlineData('a')]
    [InlineData('ä')] // two UTF-8 bytes: the limit is in bytes, not characters
    public void TryParse_LongerThan2048Bytes_IsPathTooLong(char filler)
    {
        string text = AddressOfLength(filler == 'a' ? 2049 : 1100, filler);

        Assert.False(BaseAddress.TryParse(text, out BaseAddress? result, out RegistrationStatus status, out string? error));

        Assert.Null(result);
        Assert.Equal(RegistrationStatus.PathTooLong, status);
        Assert.Contains("longer than 2048 bytes", error);
    }

    [Fact]
    public void Parse_Invalid_ThrowsFormatExceptionWithReason()
    {
        FormatException exception = Assert.Throws<FormatException>(() => BaseAddress.Parse("http://localhost/echo"));

        Assert.Contains("scheme must be net.tcp", exception.Message);
    }

    [Fact]
    public void Parse_RootAddress_HasNoSegments()
    {
        BaseAddress address = BaseAddress.Parse("net.tcp://*:9000");

        Assert.Empty(address.PathSegments);
        Assert.Equal("net.tcp://*:9000/", address.ToString());
    }

    // "net.tcp://+:1/" followed by filler up to the requested number of characters.
    private static string AddressOfLength(int length, char filler)
    {
        const string prefix = "net.tcp://+:1/";
        return prefix + new string(filler, length - prefix.Length);
    }
}
