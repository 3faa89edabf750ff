using System.Net;
using AkkaPortShare.Protocol.Addressing;

namespace AkkaPortShare.Protocol.Tests.Addressing;

public sealed class AddressTableRegistrationTests
{
    private static readonly IPEndPoint Local = new(IPAddress.Loopback, 8808);

    private readonly AddressTable<string> _table = new();

    [Fact]
    public void TryAdd_NewKey_SucceedsAndCounts()
    {
        Assert.Equal(RegistrationStatus.Success, Add("net.tcp://+:8808/echo/", "w1", out string? existing));

        Assert.Null(existing);
        Assert.Equal(1, _table.Count);
        Assert.Equal([8808], _table.Ports);
    }

    [Theory]
    [InlineData("net.tcp://+:8808/echo/", "w2")]
    [InlineData("net.tcp://+:8808/echo/", "w1")] // the same owner again is still a conflict; the caller decides
    [InlineData("NET.TCP://+:8808/ECHO", "w2")]
    [InlineData("net.tcp://+:8808//echo//?x=1", "w2")]
    public void TryAdd_SameKeyTwice_IsConflictingRegistration(string second, string owner)
    {
        Add("net.tcp://+:8808/echo/", "w1", out _);

        Assert.Equal(RegistrationStatus.ConflictingRegistration, Add(second, owner, out string? existing));

        Assert.Equal("w1", existing);
        Assert.Equal(1, _table.Count);
        Assert.True(_table.TryMatch("net.tcp://localhost:8808/echo", Local, out _, out string? matchedOwner));
        Assert.Equal("w1", matchedOwner);
    }

    [Fact]
    public void TryAdd_SameExactHostDifferentCase_IsConflictingRegistration()
    {
        Add("net.tcp://localhost:8808/echo/", "w1", out _);

        Assert.Equal(RegistrationStatus.ConflictingRegistration, Add("net.tcp://LocalHost:8808/Echo/", "w2", out string? existing));
        Assert.Equal("w1", existing);
    }

    [Fact]
    public void TryAdd_NestedPaths_Coexist()
    {
        Assert.Equal(RegistrationStatus.Success, Add("net.tcp://+:8808/a/", "w1", out _));
        Assert.Equal(RegistrationStatus.Success, Add("net.tcp://+:8808/a/b/", "w2", out _));
        Assert.Equal(RegistrationStatus.Success, Add("net.tcp://+:8808/", "w3", out _));

        Assert.Equal(3, _table.Count);
    }

    [Theory]
    [InlineData("net.tcp://*:8808/echo/")]
    [InlineData("net.tcp://localhost:8808/echo/")]
    [InlineData("net.tcp://127.0.0.1:8808/echo/")]
    [InlineData("net.tcp://[::1]:8808/echo/")]
    [InlineData("net.tcp://+:8809/echo/")]
    public void TryAdd_SamePathDifferentModeHostOrPort_Coexists(string other)
    {
        Add("net.tcp://+:8808/echo/", "w1", out _);

        Assert.Equal(RegistrationStatus.Success, Add(other, "w2", out _));
        Assert.Equal(2, _table.Count);
    }

    [Fact]
    public void TryRemove_ByNonOwner_FailsAndKeepsEntry()
    {
        Add("net.tcp://+:8808/echo/", "w1", out _);

        Assert.False(_table.TryRemove(BaseAddress.Parse("net.tcp://+:8808/echo/"), "w2"));

        Assert.Equal(1, _table.Count);
        Assert.True(_table.TryMatch("net.tcp://localhost:8808/echo", Local, out _, out _));
    }

    [Fact]
    public void TryRemove_ByOwner_RemovesAndFreesTheKey()
    {
        Add("net.tcp://+:8808/echo/", "w1", out _);

        Assert.True(_table.TryRemove(BaseAddress.Parse("net.tcp://+:8808/ECHO"), "w1"));

        Assert.Equal(0, _table.Count);
        Assert.Empty(_table.Ports);
        Assert.Empty(_table.Entries);
        Assert.False(_table.TryMatch("net.tcp://localhost:8808/echo", Local, out _, out _));
        Assert.Equal(RegistrationStatus.Success, Add("net.tcp://+:8808/echo/", "w2", out _));
    }

    [Theory]
    [InlineData("net.tcp://+:8808/other/")]
    [InlineData("net.tcp://*:8808/echo/")]
    [InlineData("net.tcp://+:8808/echo/svc/")]
    [InlineData("net.tcp://+:8808/")]
    [InlineData("net.tcp://+:9999/echo/")]
    public void TryRemove_KeyNotRegistered_ReturnsFalse(string address)
    {
        Add("net.tcp://+:8808/echo/", "w1", out _);

        Assert.False(_table.TryRemove(BaseAddress.Parse(address), "w1"));
        Assert.Equal(1, _table.Count);
    }

    [Fact]
    public void TryRemove_Parent_KeepsNestedChild()
    {
        Add("net.tcp://+:8808/a/", "parent", out _);
        Add("net.tcp://+:8808/a/b/", "child", out _);

        Assert.True(_table.TryRemove(BaseAddress.Parse("net.tcp://+:8808/a/"), "parent"));

        Assert.Equal("child", Match("net.tcp://localhost:8808/a/b/c"));
        Assert.Null(Match("net.tcp://localhost:8808/a/c"));
    }

    [Fact]
    public void TryRemove_Child_KeepsParent()
    {
        Add("net.tcp://+:8808/a/", "parent", out _);
        Add("net.tcp://+:8808/a/b/", "child", out _);

        Assert.True(_table.TryRemove(BaseAddress.Parse("net.tcp://+:8808/a/b/"), "child"));

        Assert.Equal("parent", Match("net.tcp://localhost:8808/a/b/c"));
    }

    [Fact]
    public void RemoveOwner_RemovesAllAndOnlyThatOwnersEntries()
    {
        Add("net.tcp://+:8808/a/", "w1", out _);
        Add("net.tcp://localhost:9000/b/", "w1", out _);
        Add("net.tcp://*:8808/c/", "w1", out _);
        Add("net.tcp://+:8808/a/x/", "w2", out _);
        Add("net.tcp://*:8808/", "w2", out _);

        IReadOnlyList<BaseAddress> removed = _table.RemoveOwner("w1");

        Assert.Equal(
            ["net.tcp://*:8808/c/", "net.tcp://+:8808/a/", "net.tcp://localhost:9000/b/"],
            removed.Select(a => a.ToString()).Order());
        Assert.Equal(2, _table.Count);
        Assert.All(_table.Entries, e => Assert.Equal("w2", e.Owner));
        Assert.Equal([8808], _table.Ports);
        Assert.Equal("w2", Match("net.tcp://localhost:8808/a/x"));
        Assert.Equal("w2", Match("net.tcp://localhost:8808/a")); // falls through to w2's '*' root
        Assert.Equal(RegistrationStatus.Success, Add("net.tcp://+:8808/a/", "w3", out _));
    }

    [Fact]
    public void RemoveOwner_UnknownOwner_ReturnsEmpty()
    {
        Add("net.tcp://+:8808/a/", "w1", out _);

        Assert.Empty(_table.RemoveOwner("nobody"));
        Assert.Equal(1, _table.Count);
    }

    [Fact]
    public void Entries_ListsEveryRegistrationWithItsOwner()
    {
        Add("net.tcp://+:8808/a/", "w1", out _);
        Add("net.tcp://localhost:8808/a/", "w2", out _);

        Assert.Equal(
            ["net.tcp://+:8808/a/ w1", "net.tcp://localhost:8808/a/ w2"],
            _table.Entries.Select(e => $"{e.Address} {e.Owner}").Order());
    }

    [Fact]
    public void TryGetOwner_RegisteredAndUnregisteredKeys()
    {
        Add("net.tcp://+:8808/a/", "w1", out _);

        Assert.True(_table.TryGetOwner(BaseAddress.Parse("net.tcp://+:8808/A"), out string? owner));
        Assert.Equal("w1", owner);
        Assert.False(_table.TryGetOwner(BaseAddress.Parse("net.tcp://+:8808/a/b"), out _));
    }

    private RegistrationStatus Add(string address, string owner, out string? existing) =>
        _table.TryAdd(BaseAddress.Parse(address), owner, out existing);

    private string? Match(string via) => _table.TryMatch(via, Local, out _, out string? owner) ? owner : null;
}
