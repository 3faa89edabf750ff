using System.Net;
using AkkaPortShare.Protocol.Addressing;

namespace AkkaPortShare.Protocol.Tests.Addressing;

/// <summary>
/// Several holders for one key, only when every holder asked to share it; otherwise the Windows rule (one holder,
/// ConflictingRegistration) stands, whichever side did not ask.
/// </summary>
public sealed class AddressTableSharingTests
{
    private const string Echo = "net.tcp://+:8808/echo/";
    private static readonly IPEndPoint Local = new(IPAddress.Loopback, 8808);

    private readonly AddressTable<string> _table = new();

    private RegistrationStatus Add(string address, string owner, bool shared, out string? existing) =>
        _table.TryAdd(BaseAddress.Parse(address), owner, shared, out existing);

    [Fact]
    public void TryAdd_BothShared_JoinsTheKey()
    {
        Assert.Equal(RegistrationStatus.Success, Add(Echo, "v1", shared: true, out _));

        Assert.Equal(RegistrationStatus.Success, Add("NET.TCP://+:8808/ECHO", "v2", shared: true, out var existing));

        Assert.Null(existing);
        Assert.Equal(1, _table.Count);
        Assert.Equal(["v1", "v2"], _table.Holders(BaseAddress.Parse(Echo)));
        Assert.True(_table.TryMatchAll("net.tcp://localhost:8808/echo/svc", Local, out var matched, out var owners));
        Assert.Equal(BaseAddress.Parse(Echo), matched);
        Assert.Equal(["v1", "v2"], owners);
        Assert.Equal([(BaseAddress.Parse(Echo), "v1"), (BaseAddress.Parse(Echo), "v2")], _table.Entries.OrderBy(e => e.Owner));
    }

    [Theory]
    [InlineData(false, true)]  // the holder did not ask
    [InlineData(true, false)]  // the newcomer did not ask
    [InlineData(false, false)] // the Windows rule
    public void TryAdd_NotEveryoneShared_IsConflictingRegistration(bool firstShared, bool secondShared)
    {
        Add(Echo, "v1", firstShared, out _);

        Assert.Equal(RegistrationStatus.ConflictingRegistration, Add(Echo, "v2", secondShared, out var existing));

        Assert.Equal("v1", existing);
        Assert.Equal(["v1"], _table.Holders(BaseAddress.Parse(Echo)));
    }

    [Fact]
    public void TryAdd_AThirdThatDoesNotShare_IsRefusedByAKeyTwoShare()
    {
        Add(Echo, "v1", shared: true, out _);
        Add(Echo, "v2", shared: true, out _);

        Assert.Equal(RegistrationStatus.ConflictingRegistration, Add(Echo, "v3", shared: false, out var existing));

        Assert.Equal("v1", existing);
        Assert.Equal(2, _table.Holders(BaseAddress.Parse(Echo)).Count);
    }

    [Fact]
    public void TryAdd_AHolderAgain_IsConflictingRegistrationNamingItself()
    {
        Add(Echo, "v1", shared: true, out _);
        Add(Echo, "v2", shared: true, out _);

        Assert.Equal(RegistrationStatus.ConflictingRegistration, Add(Echo, "v2", shared: true, out var existing));

        Assert.Equal("v2", existing);
        Assert.Equal(2, _table.Holders(BaseAddress.Parse(Echo)).Count);
    }

    [Fact]
    public void TryRemove_OneHolder_KeepsTheKeyForTheOthers_AndTheLastOneFreesIt()
    {
        Add(Echo, "v1", shared: true, out _);
        Add(Echo, "v2", shared: true, out _);

        Assert.True(_table.TryRemove(BaseAddress.Parse(Echo), "v1"));

        Assert.Equal(1, _table.Count);
        Assert.True(_table.TryMatch("net.tcp://localhost:8808/echo/", Local, out _, out var owner));
        Assert.Equal("v2", owner);
        Assert.False(_table.TryRemove(BaseAddress.Parse(Echo), "v1"));

        Assert.True(_table.TryRemove(BaseAddress.Parse(Echo), "v2"));
        Assert.Equal(0, _table.Count);
        Assert.Empty(_table.Ports);
        Assert.False(_table.TryMatch("net.tcp://localhost:8808/echo/", Local, out _, out _));
    }

    [Fact]
    public void RemoveOwner_LeavesSharedKeysToTheirOtherHolders()
    {
        Add(Echo, "v1", shared: true, out _);
        Add("net.tcp://+:8808/only-v1/", "v1", shared: false, out _);
        Add(Echo, "v2", shared: true, out _);

        Assert.Equal(2, _table.RemoveOwner("v1").Count);

        Assert.Equal(["v2"], _table.Holders(BaseAddress.Parse(Echo)));
        Assert.Empty(_table.Holders(BaseAddress.Parse("net.tcp://+:8808/only-v1/")));
        Assert.Equal(1, _table.Count);
        Assert.Equal([(BaseAddress.Parse(Echo), "v2")], _table.Entries);
    }

    [Fact]
    public void Holders_AfterTheLastLeft_ASharedKeyCanBeTakenUnshared()
    {
        Add(Echo, "v1", shared: true, out _);
        _table.RemoveOwner("v1");

        Assert.Equal(RegistrationStatus.Success, Add(Echo, "v2", shared: false, out _));
        Assert.Equal(RegistrationStatus.ConflictingRegistration, Add(Echo, "v3", shared: true, out _));
    }
}
