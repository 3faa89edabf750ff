using AkkaPortShare.Worker.Sessions;

namespace AkkaPortShare.Worker.Tests.Sessions;

/// <summary>A sized envelope's payload, assembled from pieces into an array that is not cleared first.</summary>
public sealed class MessageAssemblySpec
{
    [Fact]
    public void Pieces_make_the_whole_payload()
    {
        var assembly = new MessageAssembly(5);
        Assert.True(assembly.Append("he"u8));
        Assert.True(assembly.Append("llo"u8));
        Assert.Equal("hello"u8.ToArray(), assembly.ToArray());
    }

    [Fact]
    public void An_overrun_is_refused()
    {
        var assembly = new MessageAssembly(3);
        Assert.True(assembly.Append("ab"u8));
        Assert.False(assembly.Append("cd"u8));
    }

    [Fact]
    public void An_incomplete_payload_is_never_handed_out()
    {
        // Its array is not zeroed: handing out the unwritten part would hand out whatever memory held before.
        var assembly = new MessageAssembly(4);
        Assert.True(assembly.Append("ab"u8));
        Assert.Throws<InvalidOperationException>(() => assembly.ToArray());
    }
}
