using System.Net;
using AkkaPortShare.Protocol.Addressing;

namespace AkkaPortShare.Protocol.Tests.Addressing;

public sealed class AddressTableMatchTests
{
    private static readonly IPEndPoint Loopback8808 = new(IPAddress.Loopback, 8808);

    private readonly AddressTable<string> _table = new();

    [Fact]
    public void TryMatch_RegisteredVia_ReturnsAddressAndOwner()
    {
        Register("net.tcp://+:8808/echo/", "w1");

        Assert.True(_table.TryMatch("net.tcp://localhost:8808/echo/svc", Loopback8808, out BaseAddress? matched, out string? owner));

        Assert.Equal("w1", owner);
        Assert.Equal(BaseAddress.Parse("net.tcp://+:8808/echo/"), matched);
    }

    [Fact]
    public void TryMatch_StrongWildcard_BeatsLongerExact()
    {
        Register("net.tcp://+:8808/echo/", "strong");
        Register("net.tcp://localhost:8808/echo/svc/", "exact");

        Assert.Equal("strong", Match("net.tcp://localhost:8808/echo/svc"));
    }

    [Fact]
    public void TryMatch_Exact_BeatsLongerWeakWildcard()
    {
        Register("net.tcp://localhost:8808/echo/", "exact");
        Register("net.tcp://*:8808/echo/svc/", "weak");

        Assert.Equal("exact", Match("net.tcp://localhost:8808/echo/svc"));
    }

    [Fact]
    public void TryMatch_StrongWildcard_BeatsLongerWeakWildcard()
    {
        Register("net.tcp://+:8808/", "strong");
        Register("net.tcp://*:8808/echo/svc/", "weak");

        Assert.Equal("strong", Match("net.tcp://localhost:8808/echo/svc"));
    }

    [Theory]
    [InlineData("net.tcp://localhost:8808/other", "weak")] // no strong or exact prefix: the weak one is used
    [InlineData("net.tcp://localhost:8808/echo/x", "exact")]
    [InlineData("net.tcp://localhost:8808/echo/svc/x", "strong")]
    [InlineData("net.tcp://otherhost:8808/echo/x", "weak")] // exact host differs
    public void TryMatch_EachModeInTurn_FirstHitWins(string via, string expected)
    {
        Register("net.tcp://+:8808/echo/svc/", "strong");
        Register("net.tcp://localhost:8808/echo/", "exact");
        Register("net.tcp://*:8808/", "weak");

        Assert.Equal(expected, Match(via));
    }

    [Theory]
    [InlineData("net.tcp://localhost:8808/", "root")]
    [InlineData("net.tcp://localhost:8808", "root")]
    [InlineData("net.tcp://localhost:8808/x", "root")]
    [InlineData("net.tcp://localhost:8808/a", "a")]
    [InlineData("net.tcp://localhost:8808/a/", "a")]
    [InlineData("net.tcp://localhost:8808/a/x/y", "a")]
    [InlineData("net.tcp://localhost:8808/a/b", "a/b")]
    [InlineData("net.tcp://localhost:8808/a/b/c", "a/b/c")]
    [InlineData("net.tcp://localhost:8808/a/b/c/d/e", "a/b/c")]
    [InlineData("net.tcp://localhost:8808/a/b/x", "a/b")]
    public void TryMatch_NestedRegistrations_LongestPrefixWins(string via, string expected)
    {
        Register("net.tcp://+:8808/", "root");
        Register("net.tcp://+:8808/a/", "a");
        Register("net.tcp://+:8808/a/b/", "a/b");
        Register("net.tcp://+:8808/a/b/c/", "a/b/c");

        Assert.Equal(expected, Match(via));
    }

    [Theory]
    [InlineData("net.tcp://localhost:8808/svc", true)]
    [InlineData("net.tcp://localhost:8808/svc/", true)]
    [InlineData("net.tcp://localhost:8808/svc/a/b", true)]
    [InlineData("net.tcp://localhost:8808//svc//a", true)]
    [InlineData("net.tcp://localhost:8808/svcX", false)]
    [InlineData("net.tcp://localhost:8808/svcX/a", false)]
    [InlineData("net.tcp://localhost:8808/sv", false)]
    [InlineData("net.tcp://localhost:8808/", false)]
    [InlineData("net.tcp://localhost:8808/x/svc", false)]
    public void TryMatch_PrefixByWholeSegments(string via, bool matches)
    {
        Register("net.tcp://+:8808/svc", "w1");

        Assert.Equal(matches, _table.TryMatch(via, Loopback8808, out _, out _));
    }

    [Theory]
    [InlineData("net.tcp://LOCALHOST:8808/ECHO/SVC")]
    [InlineData("NET.TCP://localhost:8808/echo/svc")]
    [InlineData("net.tcp://LocalHost:8808/Echo/sVc/extra")]
    public void TryMatch_AnyCase_Matches(string via)
    {
        Register("net.tcp://localhost:8808/Echo/Svc/", "exact");

        Assert.Equal("exact", Match(via));
    }

    [Theory]
    [InlineData("net.tcp://localhost/echo/svc")]
    [InlineData("net.tcp://localhost:808/echo/svc")]
    [InlineData("net.tcp://localhost:/echo")]
    public void TryMatch_ViaWithoutPort_Is808ForExact(string via)
    {
        Register("net.tcp://localhost/echo/", "exact808");

        Assert.True(_table.TryMatch(via, new IPEndPoint(IPAddress.Loopback, 808), out _, out string? owner));
        Assert.Equal("exact808", owner);
    }

    [Fact]
    public void TryMatch_ViaWithoutPort_DoesNotMatchExactOnOtherPort()
    {
        Register("net.tcp://localhost:8808/echo/", "exact");

        Assert.Null(Match("net.tcp://localhost/echo"));
    }

    [Fact]
    public void TryMatch_Exact_UsesTheViasPortNotTheLocalOne()
    {
        // E.g. a port forward: the client dialled 9000, the socket was accepted on 8808.
        Register("net.tcp://localhost:9000/echo/", "exact");

        Assert.Equal("exact", Match("net.tcp://localhost:9000/echo", Loopback8808));
        Assert.Null(Match("net.tcp://localhost:8808/echo", Loopback8808));
    }

    [Theory]
    [InlineData("net.tcp://+:8808/echo/")]
    [InlineData("net.tcp://*:8808/echo/")]
    public void TryMatch_Wildcards_UseTheLocalPortNotTheVias(string registration)
    {
        Register(registration, "wild");

        Assert.Equal("wild", Match("net.tcp://localhost:9999/echo", Loopback8808));
        Assert.Equal("wild", Match("net.tcp://localhost/echo", Loopback8808));
        Assert.Null(Match("net.tcp://localhost:8808/echo", new IPEndPoint(IPAddress.Loopback, 9999)));
    }

    [Theory]
    [InlineData("net.tcp://anything:8808/echo")]
    [InlineData("net.tcp://10.9.8.7:8808/echo")]
    [InlineData("net.tcp://[::1]:8808/echo")]
    public void TryMatch_Wildcards_IgnoreTheViasHost(string via)
    {
        Register("net.tcp://*:8808/echo/", "weak");

        Assert.Equal("weak", Match(via));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::ffff:127.0.0.1", true)] // dual-mode socket
    [InlineData("10.0.0.5", false)]
    [InlineData("::1", false)]
    public void TryMatch_ExactIPv4Literal_RequiresThatLocalAddress(string localAddress, bool matches)
    {
        Register("net.tcp://127.0.0.1:8808/echo/", "ip");

        var local = new IPEndPoint(IPAddress.Parse(localAddress), 8808);
        Assert.Equal(matches ? "ip" : null, Match("net.tcp://127.0.0.1:8808/echo/svc", local));
    }

    [Theory]
    [InlineData("::1", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("::2", false)]
    public void TryMatch_ExactIPv6Literal_RequiresThatLocalAddress(string localAddress, bool matches)
    {
        Register("net.tcp://[::1]:8808/echo/", "ip6");

        var local = new IPEndPoint(IPAddress.Parse(localAddress), 8808);
        Assert.Equal(matches ? "ip6" : null, Match("net.tcp://[0:0::1]:8808/echo", local));
    }

    [Fact]
    public void TryMatch_ExactIPv4MappedLiteral_MatchesIPv4LocalAddress()
    {
        Register("net.tcp://[::ffff:127.0.0.1]:8808/echo/", "mapped");

        Assert.Equal("mapped", Match("net.tcp://[::ffff:127.0.0.1]:8808/echo", Loopback8808));
    }

    [Fact]
    public void TryMatch_IpLiteralRefusesLocalAddress_FallsThroughToWeakWildcard()
    {
        Register("net.tcp://10.0.0.1:8808/echo/svc/", "ip");
        Register("net.tcp://*:8808/", "weak");

        Assert.Equal("weak", Match("net.tcp://10.0.0.1:8808/echo/svc", Loopback8808));
        Assert.Equal("ip", Match("net.tcp://10.0.0.1:8808/echo/svc", new IPEndPoint(IPAddress.Parse("10.0.0.1"), 8808)));
    }

    [Theory]
    [InlineData("0.0.0.0", "10.1.2.3")]
    [InlineData("0.0.0.0", "::1")]
    [InlineData("0.0.0.0", "::ffff:10.1.2.3")]
    [InlineData("[::]", "10.1.2.3")]
    [InlineData("[::]", "fe80::1")]
    [InlineData("[::]", "::ffff:127.0.0.1")]
    public void TryMatch_AnyAddressLiteral_AcceptsEveryLocalAddress(string host, string localAddress)
    {
        Register($"net.tcp://{host}:8808/echo/", "any");

        var local = new IPEndPoint(IPAddress.Parse(localAddress), 8808);
        Assert.Equal("any", Match($"net.tcp://{host}:8808/echo", local));
    }

    [Fact]
    public void TryMatch_ExactDnsName_IgnoresLocalAddress()
    {
        Register("net.tcp://myhost:8808/echo/", "dns");

        Assert.Equal("dns", Match("net.tcp://MyHost:8808/echo", new IPEndPoint(IPAddress.Parse("10.0.0.5"), 8808)));
    }

    [Theory]
    [InlineData("net.tcp://127.000.000.001:8808/echo")]
    [InlineData("net.tcp://127.0.0.1:8808/echo")]
    public void TryMatch_ExactIPv4_ViaSpellingIsCanonicalised(string via)
    {
        Register("net.tcp://127.0.0.1:8808/echo/", "ip");

        Assert.Equal("ip", Match(via));
    }

    [Theory]
    [InlineData("net.tcp://localhost:8808/echo/svc?x=1")]
    [InlineData("net.tcp://localhost:8808/echo/svc#frag")]
    [InlineData("net.tcp://localhost:8808/other/../echo/./svc")]
    [InlineData("net.tcp://localhost:8808/%65cho%2Fsvc")]
    [InlineData("net.tcp://localhost:8808\\echo\\svc")]
    [InlineData("net.tcp://localhost:8808/ECHO/%53vc/more")]
    public void TryMatch_NonCanonicalVia_IsCanonicalisedFirst(string via)
    {
        Register("net.tcp://+:8808/echo/svc/", "svc");

        Assert.Equal("svc", Match(via));
    }

    [Fact]
    public void TryMatch_EscapedRegistrationAndRawVia_Meet()
    {
        Register("net.tcp://+:8808/my%20service/", "spaced");

        Assert.Equal("spaced", Match("net.tcp://localhost:8808/my service/x"));
        Assert.Equal("spaced", Match("net.tcp://localhost:8808/my%20service"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("echo/svc")]
    [InlineData("/echo/svc")]
    [InlineData("http://localhost:8808/echo")]
    [InlineData("net.pipe://localhost/echo")]
    [InlineData("net.tcp:/echo")]
    [InlineData("net.tcp://")]
    [InlineData("net.tcp://localhost:99999/echo")]
    [InlineData("net.tcp://user@localhost:8808/echo")]
    [InlineData("net.tcp://[::1/echo")]
    public void TryMatch_InvalidVia_ReturnsFalse(string via)
    {
        Register("net.tcp://+:8808/", "root");
        Register("net.tcp://*:8808/", "weak");

        Assert.False(_table.TryMatch(via, Loopback8808, out BaseAddress? matched, out string? owner));
        Assert.Null(matched);
        Assert.Null(owner);
    }

    [Fact]
    public void TryMatch_NullVia_ReturnsFalse()
    {
        Register("net.tcp://+:8808/", "root");

        Assert.False(_table.TryMatch(null!, Loopback8808, out _, out _));
    }

    [Fact]
    public void TryMatch_EmptyTable_ReturnsFalse()
    {
        Assert.False(_table.TryMatch("net.tcp://localhost:8808/echo", Loopback8808, out BaseAddress? matched, out string? owner));
        Assert.Null(matched);
        Assert.Null(owner);
    }

    [Fact]
    public void TryMatch_SamePathInEveryMode_EachModeReachable()
    {
        Register("net.tcp://+:8808/echo/", "strong");
        Register("net.tcp://localhost:8808/echo/", "exact");
        Register("net.tcp://*:8808/echo/", "weak");

        Assert.Equal("strong", Match("net.tcp://localhost:8808/echo"));
        _table.RemoveOwner("strong");
        Assert.Equal("exact", Match("net.tcp://localhost:8808/echo"));
        Assert.Equal("weak", Match("net.tcp://elsewhere:8808/echo"));
        _table.RemoveOwner("exact");
        Assert.Equal("weak", Match("net.tcp://localhost:8808/echo"));
    }

    [Theory]
    [InlineData("net.tcp://localhost:8808/echo/svc")]
    [InlineData("net.tcp://127.0.0.1:8808/echo/svc")]
    [InlineData("net.tcp://localhost:8808/nothing/here")]
    public void TryMatch_CanonicalVia_DoesNotAllocate(string via)
    {
        Register("net.tcp://localhost:8808/echo/", "exact");
        Register("net.tcp://127.0.0.1:8808/echo/svc/", "ip");
        Register("net.tcp://*:8808/weak/", "weak");
        for (int i = 0; i < 10; i++)
        {
            _table.TryMatch(via, Loopback8808, out _, out _);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            _table.TryMatch(via, Loopback8808, out _, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private void Register(string address, string owner) =>
        Assert.Equal(RegistrationStatus.Success, _table.TryAdd(BaseAddress.Parse(address), owner, out _));

    private string? Match(string via, IPEndPoint? local = null) =>
        _table.TryMatch(via, local ?? Loopback8808, out _, out string? owner) ? owner : null;
}
